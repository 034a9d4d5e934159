#!/bin/sh
# Runs the binding's pytest suite: run_pytest.sh PYTHON TESTS_DIR.
# Skips (exit 77) when pytest is not installed; pytest's "no tests" (5) fails.
py=$1
tests=$2
if ! "$py" -c "import pytest" 2>/dev/null; then
  echo "SKIP: pytest is not installed for $py (Debian package python3-pytest)"
  exit 77
fi
exec "$py" -m pytest -q -p no:cacheprovider "$tests"
