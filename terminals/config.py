"""Terminal settings: flags, then environment (TOTE_SERVER, TOTE_TOKEN, TOTE_FC), then a file.

The token may also live in a file of its own (`--token-file`, TOTE_TOKEN_FILE, `token_file`
in the config file): a token on a command line shows in `ps` to every user of the machine.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from terminals.channel import AddressError, split

DEFAULT_FILE = Path("~/.config/tote/terminal.toml")


class ConfigError(Exception):
    """A setting is missing or the file cannot be read."""


@dataclass(frozen=True)
class TerminalConfig:
    server: str
    token: str
    fc_id: str


def read_token_file(path: str | Path) -> str:
    """The token kept in a file: its one non-blank line, surrounding whitespace ignored."""
    path = Path(path).expanduser()
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read token file {path}: {exc}") from None
    lines = [ln for ln in lines if ln]
    if len(lines) != 1 or " " in lines[0]:
        raise ConfigError(f"token file {path} must hold one token on one line "
                          "(as `tote token create` prints it); it holds "
                          f"{len(lines)} non-blank line(s)")
    return lines[0]


def token_from(token: str | None, token_file: str | Path | None,
               env: Mapping[str, str] | None = None) -> str | None:
    """The token from --token or --token-file (not both), else TOTE_TOKEN / TOTE_TOKEN_FILE."""
    env = os.environ if env is None else env
    if token and token_file:
        raise ConfigError("pass --token or --token-file, not both")
    if token:
        return token
    if token_file:
        return read_token_file(token_file)
    if env.get("TOTE_TOKEN"):
        return env["TOTE_TOKEN"]
    if env.get("TOTE_TOKEN_FILE"):
        return read_token_file(env["TOTE_TOKEN_FILE"])
    return None


def load(server: str | None = None, token: str | None = None, fc_id: str | None = None,
         config_file: str | Path | None = None, env: dict[str, str] | None = None,
         token_file: str | Path | None = None) -> TerminalConfig:
    """Each setting from the first place that has it: flag, environment, config file.

    The file is TOML with keys `server`, `token` (or `token_file`), `fc`; without --config it
    is ~/.config/tote/terminal.toml when that exists.
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

    found = token_from(token, token_file, env)
    if found is None and isinstance(file.get("token_file"), str) and not file.get("token"):
        found = read_token_file(str(file["token_file"]))
    if found is None and not file.get("token"):
        raise ConfigError(f"no token: pass --token-file FILE (or --token), set TOTE_TOKEN_FILE "
                          f"or TOTE_TOKEN, or put token_file = \"...\" in {path}")
    address = pick(server, "TOTE_SERVER", "server")
    try:
        split(address)  # host:port, or several separated by commas
    except AddressError as exc:
        raise ConfigError(str(exc)) from None
    return TerminalConfig(address, found or pick(None, "TOTE_TOKEN", "token"),
                          pick(fc_id, "TOTE_FC", "fc"))
