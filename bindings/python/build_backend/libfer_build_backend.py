"""The build backend behind ``pip install ./bindings/python``.

The Python package needs libfer.so, and libfer.so is built from the source
tree two levels above this folder. So every hook runs meson-python's at the
root of that tree, as ``pip install .`` there would: one recipe
(pyproject.toml and meson.build at the root), two doors.
"""

import contextlib
import os

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     os.pardir, os.pardir, os.pardir))


@contextlib.contextmanager
def _at_root():
    if not (os.path.isfile(os.path.join(ROOT, "meson.build"))
            and os.path.isfile(os.path.join(ROOT, "pyproject.toml"))):
        raise RuntimeError(
            "bindings/python builds from the libfer source tree around it, and %s is not "
            "one (no meson.build and pyproject.toml); install from a whole checkout"
            % ROOT)
    try:
        import mesonpy
    except ImportError:
        raise RuntimeError(
            "building libfer needs meson-python: install it (Debian: apt install "
            "python3-mesonpy) and run pip with --no-build-isolation, or let pip fetch it")
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        yield mesonpy
    finally:
        os.chdir(here)


def _absolute(path):
    return None if path is None else os.path.abspath(path)


def get_requires_for_build_wheel(config_settings=None):
    with _at_root() as mesonpy:
        return mesonpy.get_requires_for_build_wheel(config_settings)


def get_requires_for_build_sdist(config_settings=None):
    with _at_root() as mesonpy:
        return mesonpy.get_requires_for_build_sdist(config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    wheel_directory = _absolute(wheel_directory)
    metadata_directory = _absolute(metadata_directory)
    with _at_root() as mesonpy:
        return mesonpy.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_sdist(sdist_directory, config_settings=None):
    sdist_directory = _absolute(sdist_directory)
    with _at_root() as mesonpy:
        return mesonpy.build_sdist(sdist_directory, config_settings)
