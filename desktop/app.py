"""`tote console`: build the client, the controller and the window, and run Qt."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from desktop.client import ConsoleClient
from desktop.controller import ConsoleController
from desktop.main_window import MainWindow
from desktop.qt_platform import exit_instead_of_qt_abort
from terminals.tls import ClientTls


def run(server: str, token: str, tls: ClientTls | None = None) -> int:
    """Open the console against `tote serve` at server (HOST:PORT) with a supervisor token."""
    with exit_instead_of_qt_abort("tote console"):
        app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("tote")
    app.setApplicationName("console")
    client = ConsoleClient(server, token, tls)
    controller = ConsoleController(client)
    window = MainWindow(controller)
    window.show()
    window.start()
    try:
        return app.exec()
    finally:
        client.close()
