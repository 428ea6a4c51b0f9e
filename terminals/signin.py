"""The first screen of every handheld: scan the operator badge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Static


class Terminal(Protocol):
    """What sign-in needs of the picker and packer apps."""

    TITLE: str | None
    fc_id: str
    operator: str


class SignInScreen(Screen[None]):
    """Any non-empty badge code and Enter signs in; then `then()` is the working screen."""

    BINDINGS = [Binding("ctrl+q", "app.quit", "Quit")]

    def __init__(self, then: Callable[[], Screen[None]]) -> None:
        super().__init__()
        self.then = then

    @property
    def terminal(self) -> Terminal:
        return cast(Terminal, self.app)

    def compose(self) -> ComposeResult:
        yield Static(f"{self.terminal.TITLE} · {self.terminal.fc_id}", id="title")
        yield Static("Scan your badge to sign in.", id="badge-help")
        yield Input(placeholder="badge", id="badge")
        yield Footer()

    @on(Input.Submitted, "#badge")
    def sign_in(self, event: Input.Submitted) -> None:
        code = event.value.strip()
        event.input.clear()
        if not code:
            self.app.bell()
            return
        if len(code) > 128 or not code.isprintable():
            # It travels with every scan for the audit trail; the server takes no other.
            self.app.bell()
            self.query_one("#badge-help", Static).update(
                "That is not a badge (at most 128 printable characters). Scan your badge.")
            return
        self.terminal.operator = code
        self.app.switch_screen(self.then())
