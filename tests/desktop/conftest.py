"""A real `tote serve --sandbox` (SQLite) per module, and the console pointed at it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtPrintSupport import QPrinter

from desktop.client import ConsoleClient
from desktop.controller import ConsoleController
from desktop.main_window import MainWindow
from tests import live_server

# The live server's fixtures (tests/live_server.py), shared with the other client app's tests.
db_url, tote, admin, shop = (live_server.db_url, live_server.tote, live_server.admin,
                             live_server.shop)

# Screenshots of each main view land here (outside the repo unless TOTE_ARTIFACTS says where).
ARTIFACTS = Path(os.environ.get("TOTE_ARTIFACTS", Path(tempfile.gettempdir()) / "tote-artifacts")
                 ) / "desktop"


@pytest.fixture(scope="module")
def supervisor_token(tote) -> str:  # type: ignore[no-untyped-def]
    return tote.token("supervisor", "floor-lead")


@pytest.fixture
def settings(tmp_path) -> QSettings:  # type: ignore[no-untyped-def]
    return QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def console(qtbot, tote, supervisor_token, settings) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    """The main window, started (first load + WatchOrders) and shown offscreen."""
    client = ConsoleClient(tote.grpc_address, supervisor_token)
    window = MainWindow(ConsoleController(client), settings)
    qtbot.addWidget(window)
    window.show()
    window.start()
    yield window
    window.close()
    client.close()


def screenshot(widget, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Saves what the widget shows, for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    assert widget.grab().save(str(path))
    return path


def pdf_printer(path: Path) -> QPrinter:
    """A printer that writes a PDF file, as "Print to file" does."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def print_to_file(qtbot, pane, path: Path, timeout_ms: int = 30_000) -> int:  # type: ignore[no-untyped-def]
    """Prints what a PdfPane shows into a PDF file (off the GUI thread); the pages printed."""
    with qtbot.waitSignal(pane.printed, timeout=timeout_ms) as printed:
        assert pane.print_to(pdf_printer(path)) is not None
    return printed.args[1]
