"""Locations of everything the product writes, under one overridable root."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

HOME_VARIABLE = "SAGICC_HOME"
APP_NAME = "sagicc"


@dataclass(frozen=True, slots=True)
class Paths:
    """The folders the product writes to: config, data (store), logs, secrets."""

    config_dir: Path
    data_dir: Path
    log_dir: Path
    secrets_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def store_file(self) -> Path:
        return self.data_dir / "store.sqlite3"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "sagicc.log"

    def ensure(self) -> Paths:
        """Create the folders; the secrets folder is private to its owner."""
        for folder in (self.config_dir, self.data_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.secrets_dir, 0o700)
        return self


def resolve_paths(environ: dict[str, str] | None = None) -> Paths:
    """Return the product's folders.

    When ``SAGICC_HOME`` is set, every folder sits below it (``config``,
    ``data``, ``log``, ``secrets``), so tests, the demo and a team's shared
    directory never touch a user's own files. Otherwise the platformdirs
    locations for the user are used.
    """
    env = os.environ if environ is None else environ
    home = env.get(HOME_VARIABLE)
    if home:
        root = Path(home).expanduser()
        return Paths(
            config_dir=root / "config",
            data_dir=root / "data",
            log_dir=root / "log",
            secrets_dir=root / "secrets",
        )
    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    data = Path(dirs.user_data_dir)
    return Paths(
        config_dir=Path(dirs.user_config_dir),
        data_dir=data,
        log_dir=Path(dirs.user_log_dir),
        secrets_dir=data / "secrets",
    )
