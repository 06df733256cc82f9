"""The console reaches mail servers only through the engine."""

from __future__ import annotations

import subprocess
import sys

from sagicc_tui.paths import resolve_paths
from sagicc_tui.settings import Config
from sagicc_tui.settings.secret_store import FileSecretStore
from sagicc_tui.store import acquire_engine_lock
from sagicc_tui.ui.engine_host import BackgroundLoop, EngineHost

MAIL_LIBRARIES = ("aioimaplib", "aiosmtplib", "imaplib", "smtplib", "aiosmtpd")


def test_ui_imports_no_mail_library() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import sagicc_tui.ui as ui\n"
        "for info in pkgutil.walk_packages(ui.__path__, 'sagicc_tui.ui.'):\n"
        "    importlib.import_module(info.name)\n"
        f"names = {MAIL_LIBRARIES!r}\n"
        "print(','.join(n for n in names if n in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_console_attaches_when_engine_runs() -> None:
    paths = resolve_paths().ensure()
    lock = acquire_engine_lock(paths)
    assert lock is not None
    background = BackgroundLoop()
    host = EngineHost(background, paths, Config(), FileSecretStore(paths.secrets_dir))
    try:
        assert host.start() is False
        assert host.future is None
    finally:
        lock.release()
