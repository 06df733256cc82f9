"""Find external programs for tests; CI turns a missing program into a failure."""

from __future__ import annotations

import os
import shutil

import pytest

# .ci/run sets this so that a missing real server fails the run instead of
# skipping the tests that need it.
REQUIRE_VARIABLE = "SAGICC_REQUIRE_PROGRAMS"

_SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"]
)


def require_program(name: str, package: str | None = None) -> str:
    """Return the path of ``name``; skip the test when it is missing.

    With ``SAGICC_REQUIRE_PROGRAMS=1`` a missing program fails the test.
    """
    path = shutil.which(name, path=_SEARCH_PATH)
    if path:
        return path
    reason = f"{name} is not installed (Debian package {package or name})"
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{reason}, and {REQUIRE_VARIABLE}=1 requires it")
    pytest.skip(reason)
