"""A real `tote serve --sandbox` (SQLite) per module, and the console pointed at it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtPrintSupport import QPrinter

from core.persistence import migrate
from desktop.client import ConsoleClient
from desktop.controller import ConsoleController
from desktop.main_window import MainWindow
from tests.harness import Client, ToteServer

# Screenshots of each main view land here (outside the repo unless TOTE_ARTIFACTS says where).
ARTIFACTS = Path(os.environ.get("TOTE_ARTIFACTS", Path(tempfile.gettempdir()) / "tote-artifacts")
                 ) / "desktop"


@pytest.fixture(scope="module")
def db_url(tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    """SQLite only: the console speaks gRPC and does not depend on the backend."""
    url = str(tmp_path_factory.mktemp("db") / "tote.db")
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="module")
def tote(db_url, tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    server = ToteServer(db_url, tmp_path_factory.mktemp("serve"),
                        args=["--cod-limit-minor", "2000000"]).start()
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture(scope="module")
def admin(tote) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    client = tote.client(tote.token("admin", "ops"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def shop(tote) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    client = tote.client(tote.token("storefront", "shop-a"))
    yield client
    client.close()


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
