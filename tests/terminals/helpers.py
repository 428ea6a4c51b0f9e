"""Waiting for a Textual app to reach a state, without tight sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.widgets import Static

from terminals.picker.app import PickerApp


async def until(pilot, condition: Callable[[], object], timeout_s: float = 15) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s; screen says: "
                                 f"{text(pilot.app, '#feedback')!r}")
        await pilot.pause(0.02)


def text(app: PickerApp, selector: str) -> str:
    try:
        return str(app.screen.query_one(selector, Static).render())
    except Exception:  # not on this screen
        return ""


async def sign_in(pilot, badge: str = "OP7") -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*badge, "enter")
    await until(pilot, lambda: text(pilot.app, "#bin") or "no work" in text(pilot.app, "#feedback"))
