"""Domain packages import without Textual, so the engine runs headless."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

# Domain packages and every module below them; the console alone may use Textual.
DOMAIN_MODULES = [
    "sagicc_tui.paths",
    "sagicc_tui.settings",
    "sagicc_tui.mail",
    "sagicc_tui.tickets",
    "sagicc_tui.store",
    "sagicc_tui.engine",
]


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_domain_module_imports_without_textual(module: str) -> None:
    assert importlib.util.find_spec(module) is not None, f"{module} is missing"
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        "import pkgutil\n"
        f"package = sys.modules[{module!r}]\n"
        "for info in pkgutil.walk_packages(getattr(package, '__path__', []), "
        f"{module!r} + '.'):\n"
        "    importlib.import_module(info.name)\n"
        "loaded = sorted(n for n in sys.modules if n.split('.')[0] == 'textual')\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} pulled in {result.stdout.strip()}"


def test_fakemail_does_not_import_sagicc() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import fakemail\n"
        "for info in pkgutil.walk_packages(fakemail.__path__, 'fakemail.'):\n"
        "    importlib.import_module(info.name)\n"
        "print(','.join(n for n in sys.modules if n.startswith('sagicc_tui')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
