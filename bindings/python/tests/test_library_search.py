"""Finding the shared library: explicit/env path, a checkout's build dir, a
meson install (no LIBFER_LIBRARY), and the error listing where it looked."""
import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

import libfer
from libfer import errors

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_ROOT = os.path.dirname(os.path.dirname(PACKAGE_ROOT))

PROBE = ("import libfer, libfer._lib as L; lib = L.load_library(); "
         "print(lib._name); print(libfer.version())")


def run_python(code, env_extra, cwd):
    env = {k: v for k, v in os.environ.items()
           if k not in ("LIBFER_LIBRARY", "PYTHONPATH", "LD_LIBRARY_PATH")}
    env.update(env_extra)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_env_var_and_explicit_path():
    path = os.environ.get("LIBFER_LIBRARY")
    if not path:
        pytest.skip("LIBFER_LIBRARY is not set (meson test sets it)")
    lib = libfer.load_library(path)
    assert lib._name == path
    assert libfer.version_number() >= 100 and libfer.has_openmp() in (True, False)


def copy_package(tmp_path):
    """The package alone in a folder far from any build."""
    copy = tmp_path / "pkg"
    shutil.copytree(os.path.join(PACKAGE_ROOT, "libfer"), str(copy / "libfer"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    return str(copy)


CATCH = ("import libfer\ntry:\n    libfer.version()\n"
         "except libfer.errors.LibraryNotFoundError as e:\n    print('NOTFOUND'); print(e)\n")


def test_not_found_error_names_every_place(tmp_path):
    result = run_python(CATCH, {"PYTHONPATH": copy_package(tmp_path)}, str(tmp_path))
    if "NOTFOUND" not in result.stdout:
        pytest.skip("a libfer is installed system-wide: %s" % result.stdout.strip())
    assert "system loader" in result.stdout
    assert "LIBFER_LIBRARY" in result.stdout.splitlines()[-1]


def test_named_library_that_fails_is_an_error(tmp_path):
    """A bad LIBFER_LIBRARY is reported, not replaced by another library."""
    missing = str(tmp_path / "nowhere" / "libfer.so")
    result = run_python(CATCH, {"PYTHONPATH": PACKAGE_ROOT, "LIBFER_LIBRARY": missing},
                        str(tmp_path))
    assert "NOTFOUND" in result.stdout and missing in result.stdout
    assert "$LIBFER_LIBRARY" in result.stdout
    with pytest.raises(errors.LibraryNotFoundError):
        libfer.load_library(missing)
    assert libfer.version()  # the library already loaded stays in use


def test_imports_from_checkout_build_dir(tmp_path):
    build = os.environ.get("FER_BUILD_ROOT", "")
    if not os.path.basename(build).startswith("build") or \
            os.path.dirname(os.path.abspath(build)) != SOURCE_ROOT:
        pytest.skip("the build dir %r is not a build* folder of the checkout" % build)
    result = run_python(PROBE, {"PYTHONPATH": PACKAGE_ROOT}, str(tmp_path))
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.splitlines()[0]
    assert loaded.startswith(SOURCE_ROOT + os.sep + "build")


def _python_enabled(build):
    info = os.path.join(build, "meson-info", "intro-buildoptions.json")
    try:
        with open(info) as f:
            options = json.load(f)
    except OSError:
        return False
    return any(o["name"] == "python" and o["value"] == "enabled" for o in options)


def test_imports_from_meson_install(tmp_path):
    """meson install (DESTDIR into a temporary folder) of a -Dpython=enabled
    build, then import with only PYTHONPATH set: the package must find the
    installed library through its _config.py."""
    build = os.environ.get("FER_BUILD_ROOT", "")
    meson = shutil.which("meson")
    if not build or not meson:
        pytest.skip("needs meson and FER_BUILD_ROOT (set by meson test)")
    if not _python_enabled(build):
        pytest.skip("this build is configured without -Dpython=enabled; "
                    "configure one to test the installed layout")
    dest = tmp_path / "dest"
    done = subprocess.run([meson, "install", "-C", build, "--no-rebuild", "--quiet",
                           "--destdir", str(dest)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    packages = glob.glob(str(dest / "**" / "dist-packages" / "libfer" / "__init__.py"),
                         recursive=True)
    assert len(packages) == 1, packages
    site = os.path.dirname(os.path.dirname(packages[0]))
    assert os.path.isfile(os.path.join(site, "libfer", "_config.py"))
    assert not os.path.exists(os.path.join(site, "libfer", "_config.py.in"))
    result = run_python(PROBE, {"PYTHONPATH": site}, str(tmp_path))
    assert result.returncode == 0, result.stderr
    loaded, version = result.stdout.splitlines()[:2]
    assert loaded.startswith(str(dest)), loaded
    assert version == libfer.version()
