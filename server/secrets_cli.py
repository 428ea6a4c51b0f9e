"""Webhook secrets for `tote sandbox` and `tote serve`: generated, or kept in a file.

A secret in a file (mode 600) never shows in `ps` or a shell's history, as a flag would.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from core.domain.words import count


def generate_secret() -> str:
    """A new random webhook secret: 256 bits, URL-safe text."""
    return secrets.token_urlsafe(32)


def read_secret_file(path: str | Path) -> str:
    """The secret in a file: its one non-blank line; ValueError saying what is wrong."""
    path = Path(path).expanduser()
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the webhook secret file {path}: {exc}") from None
    lines = [ln for ln in lines if ln]
    if len(lines) != 1:
        raise ValueError(f"webhook secret file {path} must hold the secret on one line; "
                         f"it holds {count(len(lines), 'non-blank line')}")
    return lines[0]


def secret_file_for_sandbox(path: str | Path) -> tuple[str, str]:
    """(the secret, "read from" | "written to"): a missing file gets a new secret, mode 600."""
    path = Path(path).expanduser()
    secret = generate_secret()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_secret_file(path), "read from"
    except OSError as exc:
        raise ValueError(f"cannot write the webhook secret file {path}: {exc}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secret + "\n")
    return secret, "written to"
