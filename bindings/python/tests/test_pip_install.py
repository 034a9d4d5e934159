"""pip install from the source tree, as a new user does it: meson-python
builds libfer and the wheel carries libfer.so inside the package, so that
``import libfer`` works with no environment variable.

Meson suite ``pip`` (it compiles the library: about a minute or two on two
cores). Offline, with Debian's packages: python3-venv and python3-mesonpy
(build isolation off, since there is no package index to fetch from).

1. A fresh copy of the tree; ``pip install ./bindings/python`` into a
   ``venv --system-site-packages``: faces from a path, from a
   ``cv2.imread`` array, and ``python -m libfer``; ``LIBFER_LIBRARY``
   still wins.
2. ``pip wheel .`` at the root (the other door, same build folder): the
   wheel holds exactly the package's modules and libfer.so; its size is
   printed.
3. That wheel in a plain venv (no numpy, no Pillow): paths and bytes work.
"""
import glob
import os
import shutil
import subprocess
import sys
import time
import zipfile

import pytest

import libfer

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_ROOT = os.path.dirname(os.path.dirname(PACKAGE_ROOT))
ASTRONAUT = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"

pytestmark = pytest.mark.pip


def run(cmd, env, cwd, timeout=900):
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout)
    assert done.returncode == 0, "%s\n%s\n%s" % (" ".join(cmd), done.stdout, done.stderr)
    return done.stdout


def copy_source_tree(dest):
    """The files a checkout has (tracked or new, not ignored), without any
    build folder: what a new user's clone holds."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed: it lists the files of the checkout to copy "
                    "(tools/install-deps.sh test installs it)")
    listed = subprocess.run(["git", "-C", SOURCE_ROOT, "ls-files", "-z", "--cached",
                             "--others", "--exclude-standard"], capture_output=True)
    if listed.returncode != 0:
        pytest.skip("the source tree is not a git checkout")
    for name in listed.stdout.decode().split("\0"):
        source = os.path.join(SOURCE_ROOT, name)
        if name and os.path.isfile(source):
            target = os.path.join(dest, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(source, target)


@pytest.fixture(scope="module")
def clean_env():
    """The environment of a new user's shell: no LIBFER_LIBRARY, no
    PYTHONPATH, no extra pip index or links."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LIBFER_LIBRARY", "PYTHONPATH", "PIP_FIND_LINKS", "PIP_INDEX_URL",
                        "PIP_EXTRA_INDEX_URL", "LD_PRELOAD", "ASAN_OPTIONS")}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PYTHONDONTWRITEBYTECODE="1")
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory, clean_env):
    """(tmp, venv with system site-packages, build folder, source copy,
    seconds pip install took)."""
    for module, package in (("mesonpy", "python3-mesonpy"), ("venv", "python3-venv"),
                            ("ensurepip", "python3-venv")):
        if subprocess.run([sys.executable, "-c", "import " + module],
                          capture_output=True).returncode != 0:
            pytest.skip("%s is not installed (Debian package %s)" % (module, package))
    if not os.path.isfile(ASTRONAUT):
        pytest.skip("%s is absent (Debian package python3-skimage)" % ASTRONAUT)
    if not shutil.which("meson") or not shutil.which("ninja"):
        pytest.skip("meson and ninja are needed to build libfer")
    tmp = tmp_path_factory.mktemp("pip")
    source = str(tmp / "libfer-src")
    copy_source_tree(source)
    venv = str(tmp / "venv-system")
    run([sys.executable, "-m", "venv", "--system-site-packages", venv], clean_env, str(tmp))
    build = str(tmp / "wheel-build")
    start = time.time()
    run([os.path.join(venv, "bin", "pip"), "install", "--no-build-isolation", "--no-deps",
         "--config-settings", "builddir=" + build, "./bindings/python"], clean_env, source)
    seconds = time.time() - start
    print("\npip install ./bindings/python (compiling libfer): %.0f s" % seconds)
    return tmp, venv, build, source, seconds


PROBE = r'''
import os, sys
import libfer
lib = libfer.load_library()
print(os.path.dirname(libfer.__file__))
print(lib._name)
faces = libfer.analyze(sys.argv[1])
print([(f.box, f.label) for f in faces])
'''

PROBE_OPENCV = r'''
import sys, cv2
import libfer
frame = cv2.imread(sys.argv[1])
print([(f.box, f.label) for f in libfer.analyze(frame, channel_order="BGR")])
'''


def expected_faces():
    return str([(f.box, f.label) for f in libfer.analyze(ASTRONAUT)])


def test_pip_install_bindings_python_in_a_system_site_venv(installed, clean_env):
    tmp, venv, _, _, _ = installed
    python = os.path.join(venv, "bin", "python")
    package, library, faces = run([python, "-c", PROBE, ASTRONAUT], clean_env,
                                  str(tmp)).splitlines()
    site = glob.glob(os.path.join(venv, "lib", "python3*", "site-packages"))[0]
    assert package == os.path.join(site, "libfer")
    assert os.path.dirname(library) == package and os.path.basename(library).startswith(
        "libfer.so")
    assert faces == expected_faces() and "[]" != faces
    pytest.importorskip("cv2")
    assert run([python, "-c", PROBE_OPENCV, ASTRONAUT], clean_env,
               str(tmp)).strip() == expected_faces()
    out = run([python, "-m", "libfer", "analyze", ASTRONAUT], clean_env, str(tmp))
    assert out.startswith(ASTRONAUT + ": 1 face")
    # LIBFER_LIBRARY still wins over the library in the package.
    ours = libfer.load_library()._name
    env = dict(clean_env, LIBFER_LIBRARY=ours)
    assert run([python, "-c", PROBE, ASTRONAUT], env, str(tmp)).splitlines()[1] == ours
    env["LIBFER_LIBRARY"] = str(tmp / "no-such-libfer.so")
    broken = subprocess.run([python, "-c", "import libfer; libfer.version()"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert broken.returncode != 0 and "no-such-libfer.so" in broken.stderr


def test_wheel_from_the_root_and_a_plain_venv_without_numpy(installed, clean_env):
    tmp, venv, build, source, _ = installed
    dist = str(tmp / "dist")
    run([os.path.join(venv, "bin", "pip"), "wheel", "--no-build-isolation", "--no-deps",
         "--config-settings", "builddir=" + build, "-w", dist, "."], clean_env, source)
    wheels = glob.glob(os.path.join(dist, "libfer-*.whl"))
    assert len(wheels) == 1
    size = os.path.getsize(wheels[0])
    print("\n%s: %.2f MB" % (os.path.basename(wheels[0]), size / 1e6))
    assert size < 8e6
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = set(wheel.namelist())
    modules = {"libfer/" + n for n in os.listdir(os.path.join(PACKAGE_ROOT, "libfer"))
               if n.endswith(".py")}
    package_files = {n for n in names if n.startswith("libfer/")}
    libraries = {n for n in package_files if n.startswith("libfer/libfer.so")}
    assert len(libraries) == 1
    assert package_files - libraries == modules  # each module, nothing else
    assert not any(n.endswith((".h", ".a", ".pc")) for n in names)

    plain = str(tmp / "venv-plain")
    run([sys.executable, "-m", "venv", plain], clean_env, str(tmp))
    python = os.path.join(plain, "bin", "python")
    run([os.path.join(plain, "bin", "pip"), "install", "--no-deps", wheels[0]], clean_env,
        str(tmp))
    no_numpy = subprocess.run([python, "-c", "import numpy"], capture_output=True,
                              env=clean_env, timeout=60)
    assert no_numpy.returncode != 0  # really without numpy
    package, library, faces = run([python, "-c", PROBE, ASTRONAUT], clean_env,
                                  str(tmp)).splitlines()
    assert package.startswith(plain) and library.startswith(package)
    assert faces == expected_faces()
    script = ("import sys, libfer\n"
              "data = open(sys.argv[1], 'rb').read()\n"
              "faces = libfer.analyze(data)\n"
              "libfer.annotate(data, faces).save(sys.argv[2])\n"
              "print(libfer.to_fer(faces)[0]['box'])\n")
    out = run([python, "-c", script, ASTRONAUT, str(tmp / "drawn.png")], clean_env, str(tmp))
    assert out.strip() == str(list(libfer.analyze(ASTRONAUT)[0].box))
    assert libfer.Image.load(str(tmp / "drawn.png")).to_bytes() == \
        libfer.annotate(ASTRONAUT, libfer.analyze(ASTRONAUT)).to_bytes()
