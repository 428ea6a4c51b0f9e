"""The packer app: badge sign-in, then orders packed one after another."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding

from terminals.packer.screens import PackScreen
from terminals.printer import Printer
from terminals.scale import Scale
from terminals.signin import SignInScreen
from terminals.tls import ClientTls

if TYPE_CHECKING:
    from terminals.client import ToteClient


class PackerApp(App[None]):
    """Packing station; `client` is a terminals.client.ToteClient (or a fake in tests), `scale`
    the station's serial scale or None (weights typed)."""

    TITLE = "tote packer"
    ENABLE_COMMAND_PALETTE = False
    CSS_PATH = "../terminal.tcss"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    def __init__(self, client: ToteClient, fc_id: str, printer: Printer,
                 device_id: str = "", scale: Scale | None = None) -> None:
        super().__init__()
        self.client, self.fc_id, self.printer, self.device_id = client, fc_id, printer, device_id
        self.scale = scale
        self.operator = ""

    def on_mount(self) -> None:
        self.push_screen(SignInScreen(PackScreen))


def run(server: str | None, token: str | None, fc_id: str | None, printer: str,
        config_file: str | None = None, scale: str | None = None, *,
        token_file: str | None = None, tls: ClientTls | None = None) -> None:
    """Read the settings, connect, and run the packer until the operator quits."""
    import click

    from terminals.client import ToteClient
    from terminals.config import ConfigError, load

    try:
        config = load(server, token, fc_id, config_file, token_file=token_file)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    client = ToteClient(config.server, config.token, tls=tls)
    try:
        PackerApp(client, config.fc_id, Printer(printer),
                  scale=Scale(scale) if scale else None).run()
    finally:
        client.close()
