"""`pip install bindings/python` (Debian's setuptools, offline) gives a
package that imports and finds the library through LIBFER_LIBRARY."""
import os
import shutil
import subprocess
import sys

import pytest

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_pip_install_into_target(tmp_path):
    try:
        import setuptools  # noqa: F401
    except ImportError:
        pytest.skip("setuptools is not installed (Debian python3-setuptools)")
    if subprocess.run([sys.executable, "-m", "pip", "--version"],
                      capture_output=True).returncode != 0:
        pytest.skip("pip is not installed (Debian python3-pip)")
    library = os.environ.get("LIBFER_LIBRARY")
    if not library:
        pytest.skip("LIBFER_LIBRARY is not set (meson test sets it)")
    # Build from a copy: pip builds in place and would leave build/ and
    # *.egg-info in the checkout.
    source = tmp_path / "src"
    shutil.copytree(PACKAGE_ROOT, str(source),
                    ignore=shutil.ignore_patterns("__pycache__", "tests", "*.egg-info",
                                                  "build"))
    target = tmp_path / "site"
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--no-build-isolation", "--target", str(target), str(source)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert os.path.isfile(str(target / "libfer" / "model.py"))
    assert not os.path.exists(str(target / "libfer" / "_config.py"))
    probe = subprocess.run(
        [sys.executable, "-c", "import libfer; print(libfer.__file__); print(libfer.version())"],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(target),
             "LIBFER_LIBRARY": library, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True, text=True, cwd=str(tmp_path), timeout=60)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.startswith(str(target))
