"""Terminal settings: flags, then environment (TOTE_SERVER, TOTE_TOKEN, TOTE_FC), then a file."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_FILE = Path("~/.config/tote/terminal.toml")


class ConfigError(Exception):
    """A setting is missing or the file cannot be read."""


@dataclass(frozen=True)
class TerminalConfig:
    server: str
    token: str
    fc_id: str


def load(server: str | None = None, token: str | None = None, fc_id: str | None = None,
         config_file: str | Path | None = None, env: dict[str, str] | None = None
         ) -> TerminalConfig:
    """Each setting from the first place that has it: flag, environment, config file.

    The file is TOML with keys `server`, `token`, `fc`; without --config it is
    ~/.config/tote/terminal.toml when that exists.
    """
    env = dict(os.environ) if env is None else env
    path = Path(config_file).expanduser() if config_file else DEFAULT_FILE.expanduser()
    file: dict[str, object] = {}
    if config_file or path.exists():
        try:
            file = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None

    def pick(flag: str | None, var: str, key: str) -> str:
        value = flag or env.get(var) or file.get(key) or ""
        if not isinstance(value, str) or not value:
            raise ConfigError(f"no {key}: pass --{key}, set {var} or put {key} = \"...\" in {path}")
        return value

    return TerminalConfig(pick(server, "TOTE_SERVER", "server"), pick(token, "TOTE_TOKEN", "token"),
                          pick(fc_id, "TOTE_FC", "fc"))
