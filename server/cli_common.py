"""What the `tote` commands share: help texts and the log format."""

from __future__ import annotations

import logging
import sys

DB_HELP = "database URL or SQLite file path (default ./tote.db; env TOTE_DB)"
TOKEN_HELP = "a {role} token (env TOTE_TOKEN); it shows in `ps`: prefer --token-file"
TOKEN_FILE_HELP = "file holding the token on one line (env TOTE_TOKEN_FILE)"


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
