"""The inventory view against a real tote serve: stock by FC × SKU, and receiving stock."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.controller import CONNECTED
from desktop.models import StockModel
from tests.desktop.conftest import screenshot
from tests.harness import unique

pytestmark = pytest.mark.qt


def stock_row(view, fc_id: str, sku: str) -> dict[str, str] | None:  # type: ignore[no-untyped-def]
    for r in range(view.model.rowCount()):
        cells = [view.model.index(r, c).data() for c in range(view.model.columnCount())]
        if cells[StockModel.COL_FC] == fc_id and cells[StockModel.COL_SKU] == sku:
            return dict(zip(StockModel.HEADERS, cells, strict=True))
    return None


def test_receiving_stock_changes_the_table_and_a_refusal_is_shown(qtbot, console, admin) -> None:  # type: ignore[no-untyped-def]
    sku = unique("RECV")
    admin.product(sku)
    admin.fc("FC-INV")
    admin.receive("FC-INV", sku, 3)
    console.tabs.setCurrentWidget(console.inventory)
    qtbot.waitUntil(lambda: console.controller.state == CONNECTED, timeout=10_000)
    view = console.inventory
    qtbot.keyClick(console, Qt.Key.Key_F5)  # the stock received since the window opened
    qtbot.waitUntil(lambda: stock_row(view, "FC-INV", sku) is not None
                    and view.fc_box.findText("FC-INV") >= 0, timeout=10_000)
    assert stock_row(view, "FC-INV", sku)["On hand"] == "3"  # type: ignore[index]

    view.fc_box.setCurrentText("FC-INV")
    view.sku.setText(sku)
    view.quantity.setValue(7)
    with qtbot.waitSignal(console.controller.stock_received, timeout=10_000):
        qtbot.mouseClick(view.receive_button, Qt.MouseButton.LeftButton)
    row = stock_row(view, "FC-INV", sku)
    assert row is not None and row["On hand"] == "10" and row["Available"] == "10"
    assert admin.stock(sku) == (10, 0, 10)
    assert "on hand 10" in view.result.text()

    view.search.setText(sku)
    assert view.proxy.rowCount() == 1
    screenshot(console, "inventory")

    # An unknown SKU: the server's message, and nothing changes.
    view.sku.setText("NO-SUCH-SKU")
    with qtbot.waitSignal(console.controller.receive_refused, timeout=10_000):
        qtbot.mouseClick(view.receive_button, Qt.MouseButton.LeftButton)
    assert view.result.text().startswith("Refused — NOT_FOUND")
    assert view.receive_button.isEnabled()
