import os

import pytest

from libfer import _lib

# Every C function the package looks up during the session, for
# test_zz_api_coverage.py (pre-bound hot paths are looked up once too).
CALLED = set()
_original_fn = _lib.fn
_original_raw = _lib.raw_function


def _recording_fn(name):
    CALLED.add(name)
    return _original_fn(name)


def _recording_raw(name, *args):
    CALLED.add(name)
    return _original_raw(name, *args)


_lib.fn = _recording_fn
_lib.raw_function = _recording_raw


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: takes more than ~20 s on a 2-core machine (meson suite slow)")
    config.addinivalue_line(
        "markers", "pip: builds and pip-installs the package from the source tree "
        "(meson suite pip)")


@pytest.fixture
def shared_data():
    """../shared/data, or skip with a visible reason."""
    path = os.environ.get("FER_SHARED_DATA", "")
    if not path or not os.path.isfile(os.path.join(path, "README.md")):
        pytest.skip("../shared/data is absent")
    return path
