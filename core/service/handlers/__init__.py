"""Command handlers, one module per aggregate; core/service/bus.py gathers them into the one
registry. A handler is `(session, command, deps) -> result`, run in the command's write
transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

from sqlalchemy.orm import Session

from core.service.deps import Deps

# What each module's HANDLERS maps a command type to (each handler's command type is checked
# where it is defined; a table holds handlers of many).
Handler: TypeAlias = Callable[[Session, Any, Deps], Any]
