"""``python -m libfer`` prints what the fer command (C, examples/fer)
prints, byte for byte, and exits with the same status."""
import os
import shutil
import subprocess
import sys

import pytest

import libfer

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASTRONAUT = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
OPENCV_CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
REPO_CASCADE = os.path.join(PACKAGE_ROOT, "..", "..", "models", "frontalface.xml")


def fer_program():
    path = os.path.join(os.environ.get("FER_BUILD_ROOT", ""), "examples", "fer", "fer")
    if not os.path.isfile(path):
        pytest.skip("the fer command is not built (FER_BUILD_ROOT/examples/fer/fer)")
    return path


def program_env():
    """The environment for the fer program: without the ASan runtime that
    run_pytest.sh preloads into Python for a sanitizer build, since the
    program carries its own (two runtimes in one process abort)."""
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}


def python_m(*args):
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "libfer"] + list(args), capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A folder with the astronaut (under a name CSV has to quote) and, when
    ../shared/data is there, a dozen photos with several faces."""
    if not os.path.isfile(ASTRONAUT):
        pytest.skip("%s is absent (Debian package python3-skimage)" % ASTRONAUT)
    if not (libfer.has_default_model() and libfer.has_default_cascade()):
        pytest.skip("this libfer has no built-in model or cascade")
    folder = tmp_path_factory.mktemp("photos")
    shutil.copy(ASTRONAUT, str(folder / "astro,naut.png"))
    shared = os.path.join(os.environ.get("FER_SHARED_DATA", ""), "faces", "images")
    if os.path.isdir(shared):
        for name in sorted(os.listdir(shared))[:12]:
            shutil.copy(os.path.join(shared, name), str(folder / name))
    return str(folder)


@pytest.mark.parametrize("args", [
    ["analyze", "{astro}", "{folder}"],
    ["analyze", "--json", "{folder}"],
    ["analyze", "--csv", "{folder}", "--min-size", "24", "--scale-factor", "1.15"],
    ["analyze", "--margin", "0.1", "--min-neighbors", "6", "{astro}"],
    ["predict", "{astro}", "{folder}/astro,naut.png"],
    ["predict", "--json", "{astro}"],
    ["predict", "--csv", "{astro}"],
    ["detect", "--cascade", OPENCV_CASCADE, "{astro}"],
    ["detect", "--json", "--cascade", REPO_CASCADE, "--scale-factor", "1.2", "{astro}"],
    ["detect", "{astro}"],
])
def test_same_output_as_the_fer_command(photos, args):
    fer = fer_program()
    if any(a in (OPENCV_CASCADE,) and not os.path.isfile(a) for a in args):
        pytest.skip("opencv-data is absent")
    args = [a.format(astro=ASTRONAUT, folder=photos) for a in args]
    c = subprocess.run([fer] + args, capture_output=True, text=True, timeout=300,
                       env=program_env())
    py = python_m(*args)
    assert c.returncode == 0 and py.returncode == 0, py.stderr
    assert py.stdout == c.stdout
    assert py.stdout.strip()


def test_annotate_writes_the_same_pictures(photos, tmp_path):
    fer = fer_program()
    subprocess.run([fer, "analyze", photos, "--annotate", str(tmp_path / "c")], check=True,
                   capture_output=True, timeout=300, env=program_env())
    py = python_m("analyze", photos, "--annotate", str(tmp_path / "py"))
    assert py.returncode == 0, py.stderr
    names = sorted(os.listdir(str(tmp_path / "c")))
    assert names and names == sorted(os.listdir(str(tmp_path / "py")))
    for name in names:
        assert (libfer.Image.load(str(tmp_path / "c" / name)).to_bytes()
                == libfer.Image.load(str(tmp_path / "py" / name)).to_bytes()), name
    out = tmp_path / "boxes.png"
    py = python_m("detect", ASTRONAUT, "--annotate", str(out))
    assert py.returncode == 0 and out.is_file()


def test_exit_status_and_messages(photos, tmp_path):
    missing = str(tmp_path / "missing.jpg")
    py = python_m("analyze", missing, ASTRONAUT)
    assert py.returncode == 1 and "missing.jpg" in py.stderr
    assert py.stdout.startswith(ASTRONAUT + ": 1 face")  # the other image still done
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    py = python_m("predict", str(bad))
    assert py.returncode == 1 and "bad.png" in py.stderr
    assert python_m("analyze", "--bogus", ASTRONAUT).returncode == 2
    assert python_m("analyze", "--json", "--csv", ASTRONAUT).returncode == 2
    assert python_m("analyze", "--scale-factor", "x", ASTRONAUT).returncode == 2
    py = python_m("analyze", "--scale-factor", "0.5", ASTRONAUT)
    assert py.returncode == 2 and "scale" in py.stderr
    assert python_m("detect", ASTRONAUT, ASTRONAUT, "--annotate", "x.png").returncode == 2
    assert python_m().returncode == 2
    py = python_m("analyze", "--help")
    assert py.returncode == 0 and "--annotate" in py.stdout
    py = python_m("version")
    assert py.returncode == 0 and libfer.version() in py.stdout
