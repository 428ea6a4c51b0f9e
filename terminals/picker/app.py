"""The picker app: badge sign-in, then pick tasks one after another."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding

from terminals.outbox import Outbox
from terminals.picker.screens import PickScreen
from terminals.signin import SignInScreen
from terminals.tls import ClientTls

if TYPE_CHECKING:
    from terminals.client import ToteClient


class PickerApp(App[None]):
    """Handheld picker; `client` is a terminals.client.ToteClient (or a fake in tests)."""

    TITLE = "tote picker"
    ENABLE_COMMAND_PALETTE = False
    CSS_PATH = "../terminal.tcss"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    def __init__(self, client: ToteClient, fc_id: str, device_id: str = "",
                 outbox: Outbox | None = None) -> None:
        super().__init__()
        self.client, self.fc_id, self.device_id = client, fc_id, device_id
        # Scans not yet answered and the task in hand; a file survives a restart.
        self.outbox = outbox or Outbox()
        self.operator = ""

    def on_mount(self) -> None:
        self.push_screen(SignInScreen(PickScreen))


def run(server: str | None, token: str | None, fc_id: str | None,
        config_file: str | None = None, *, token_file: str | None = None,
        tls: ClientTls | None = None) -> None:
    """Read the settings, connect, and run the picker until the operator quits."""
    import click

    from terminals.client import ToteClient
    from terminals.config import ConfigError, load

    try:
        config = load(server, token, fc_id, config_file, token_file=token_file)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    # TOTE_OUTBOX: where queued scans wait for the server (kept across restarts).
    path = Path(os.environ.get("TOTE_OUTBOX") or f"~/.local/state/tote/picker-{config.fc_id}.db")
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    client, outbox = ToteClient(config.server, config.token, tls=tls), Outbox(str(path))
    try:
        PickerApp(client, config.fc_id, outbox=outbox).run()
    finally:
        client.close()
        outbox.close()
