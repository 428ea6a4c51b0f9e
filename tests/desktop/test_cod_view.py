"""COD reconciliation against a real tote serve: a short remittance shows as a discrepancy."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import Qt

from desktop.cod_view import DiscrepanciesModel, parse_amount
from tests.desktop.conftest import screenshot
from tests.harness import cod
from tests.integration.test_shipping import hand_off, pick_and_pack, ready_order, track
from tote.v1 import common_pb2, shipping_pb2

pytestmark = pytest.mark.qt


def test_discrepancies_model_passes_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = DiscrepanciesModel()
    model.set_rows([shipping_pb2.CodDiscrepancy(
        tracking_number="TT1", kind="short_remittance", detail="short by 10.00",
        expected=common_pb2.Money(amount_minor=53_900, currency="INR"),
        actual=common_pb2.Money(amount_minor=52_900, currency="INR"))])
    qtmodeltester.check(model)
    assert model.index(0, DiscrepanciesModel.COL_KIND).data() == "short remittance"
    assert model.index(0, DiscrepanciesModel.COL_ACTUAL).data() == "₹529.00"


def test_amounts_are_parsed_to_minor_units() -> None:
    assert parse_amount("1,234.50") == 123_450
    assert parse_amount("539") == 53_900
    assert parse_amount("5.399") is None
    assert parse_amount("-1") is None
    assert parse_amount("five") is None


def test_a_short_remittance_recorded_in_the_view_shows_as_a_discrepancy_and_exports(
        qtbot, console, tote, admin, shop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    admin.fc("FC-BLR")
    carrier = tote.client(tote.token("carrier", "sandbox"))
    supervisor = tote.client(tote.token("supervisor", "dock"))
    try:
        order, _ = ready_order(tote, admin, shop, cod(), units=1)
        tracking = pick_and_pack(tote, order.order_id, units=1)
        hand_off(supervisor, tracking)
        due = order.total.amount_minor
        assert track(carrier, tracking, "delivered", cod_minor=due).status == \
            common_pb2.ORDER_STATUS_DELIVERED
    finally:
        carrier.close()
        supervisor.close()

    view = console.cod
    console.tabs.setCurrentWidget(view)
    # The carrier chooser learnt the carrier from the order's events (GetOrder) and, having
    # nothing chosen yet, chose it: its reconciliation loads by itself.
    qtbot.waitUntil(lambda: view.carrier.carrier() == "sandbox", timeout=10_000)
    assert view.carrier.carriers() == ["sandbox"]
    qtbot.waitUntil(lambda: view.reconciliation is not None, timeout=10_000)
    view.reference.setText("NEFT-SHORT-1")
    view.amount.setText(f"{(due - 1_000) / 100:.2f}")  # ten rupees short
    view.parcels.setPlainText(tracking)
    with qtbot.waitSignal(console.controller.remittance_recorded, timeout=10_000):
        qtbot.mouseClick(view.record_button, Qt.MouseButton.LeftButton)

    def short_row() -> int:
        for r in range(view.model.rowCount()):
            d = view.model.row_at(r)
            if d.tracking_number == tracking and d.kind == "short_remittance":
                return r
        return -1

    qtbot.waitUntil(lambda: short_row() >= 0, timeout=10_000)
    d = view.model.row_at(short_row())
    assert (d.expected.amount_minor, d.actual.amount_minor) == (due, due - 1_000)
    assert "collected" in view.totals.text() and "NEFT-SHORT-1" in view.result.text()
    screenshot(console, "cod_reconciliation")
    # The carrier was remembered for the next session.
    assert console.settings.value("carriers/known", [], type=list) == ["sandbox"]

    path = tmp_path / "cod.csv"
    view.export_csv(path)
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["carrier", "expected", "collected", "remitted", "currency"]
    assert [tracking, "short_remittance", f"{due / 100:.2f}", f"{(due - 1_000) / 100:.2f}",
            "INR"] == rows[rows.index(["tracking_number", "kind", "expected", "actual",
                                       "currency", "detail"]) + 1 + short_row()][:5]

    # A remittance without parcels is refused here, before the server is asked.
    view.reference.setText("NEFT-EMPTY")
    view.amount.setText("1")
    qtbot.mouseClick(view.record_button, Qt.MouseButton.LeftButton)
    assert "at least one tracking number" in view.result.text()
