"""Reload a running engine when the config or secrets files change."""

from __future__ import annotations

import logging
from pathlib import Path

from sagicc_tui.engine.runner import Engine
from sagicc_tui.paths import Paths
from sagicc_tui.settings import ConfigError, load_config
from sagicc_tui.settings.secret_store import SECRETS_FILE_NAME

log = logging.getLogger(__name__)

# Seconds between checks; edits by `sagicc channels` or a console reach the
# engine within this time.
CONFIG_CHECK_SECONDS = 5.0


async def watch_config(engine: Engine, paths: Paths) -> None:
    """Reload the engine when the config file changes; retry on new secrets."""
    secrets_file = paths.secrets_dir / SECRETS_FILE_NAME
    config_seen = _mtime(paths.config_file)
    secrets_seen = _mtime(secrets_file)
    while True:
        await engine.clock.sleep(CONFIG_CHECK_SECONDS)
        config_now, secrets_now = _mtime(paths.config_file), _mtime(secrets_file)
        if config_now != config_seen:
            config_seen = config_now
            try:
                config = load_config(paths.config_file)
            except ConfigError as error:
                log.error(
                    "config changed but is invalid, keeping the old one: %s", error
                )
                continue
            await engine.reload(config)
        elif secrets_now != secrets_seen:
            log.info("secrets changed; failed channels retry now")
            engine.retry_failed()
        secrets_seen = secrets_now


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None
