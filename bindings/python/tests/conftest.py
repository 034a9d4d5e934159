import os

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: takes more than ~20 s on a 2-core machine (meson suite slow)")


@pytest.fixture
def shared_data():
    """../shared/data, or skip with a visible reason."""
    path = os.environ.get("FER_SHARED_DATA", "")
    if not path or not os.path.isfile(os.path.join(path, "README.md")):
        pytest.skip("../shared/data is absent")
    return path
