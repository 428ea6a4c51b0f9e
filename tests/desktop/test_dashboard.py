"""The floor dashboard: its models without widgets, and the view against a real tote serve."""

from __future__ import annotations

from datetime import UTC

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from PySide6.QtCore import Qt

from desktop.controller import CONNECTED
from desktop.dashboard_models import (
    AGING,
    AgingOrdersModel,
    StatusCountsModel,
    throughput_series,
)
from desktop.dashboard_view import ALL_FCS
from tests.desktop.conftest import screenshot
from tests.desktop.test_orders_view import new_fc, processing_order
from tests.harness import unique
from tote.v1 import common_pb2, fulfillment_pb2

pytestmark = pytest.mark.qt
NOW = 1_790_000_000.0


def order(order_id: str, status: int, minutes_ago: int) -> common_pb2.Order:
    return common_pb2.Order(order_id=order_id, status=status, fc_id="FC-A",
                            created_at=Timestamp(seconds=int(NOW - minutes_ago * 60)))


ORDERS = [order("o1", common_pb2.ORDER_STATUS_PROCESSING, 90),
          order("o2", common_pb2.ORDER_STATUS_PROCESSING, 5),
          order("o3", common_pb2.ORDER_STATUS_SHIPPED, 300),
          order("o4", common_pb2.ORDER_STATUS_PICKING, 61)]


def test_status_counts_count_orders_and_aging_ones_per_status(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = StatusCountsModel()
    model.set_rows(StatusCountsModel.rows_for(ORDERS, NOW, threshold_min=60))
    qtmodeltester.check(model)
    table = {model.index(r, 0).data(): (model.index(r, 1).data(), model.index(r, 2).data())
             for r in range(model.rowCount())}
    assert table["PROCESSING"] == ("2", "1")
    assert table["PICKING"] == ("1", "1")
    assert table["PENDING"] == ("0", "0")
    # Finished orders are not counted: the console holds only the newest of them.
    assert "SHIPPED" not in table and "DELIVERED" not in table and "CANCELLED" not in table


def test_aging_orders_are_highlighted_past_the_threshold(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = AgingOrdersModel()
    model.now, model.threshold_min = NOW, 60
    model.set_rows([ORDERS[0], ORDERS[1]])
    qtmodeltester.check(model)
    assert model.index(0, AgingOrdersModel.COL_AGE).data() == "90"
    assert model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole).color() == AGING
    assert model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) is None


def test_throughput_buckets_become_hour_labels_and_one_series_per_step() -> None:
    hour = 1_789_999_200 - 1_789_999_200 % 3600  # 2026-09-21 14:00 UTC
    buckets = [fulfillment_pb2.ThroughputBucket(
        hour_start=Timestamp(seconds=hour + 3600 * i), placed=3 + i, packed=i, shipped=1,
        delivered=0, cancelled=9) for i in range(3)]
    hours, series = throughput_series(buckets, UTC)
    assert hours == ["14:00", "15:00", "16:00"]
    assert series == {"placed": [3, 4, 5], "packed": [0, 1, 2], "shipped": [1, 1, 1],
                      "delivered": [0, 0, 0]}
    assert throughput_series([], UTC) == ([], {"placed": [], "packed": [], "shipped": [],
                                                "delivered": []})


def test_the_dashboard_counts_one_fcs_orders_live_and_marks_aging_ones(
        qtbot, console, admin, shop) -> None:  # type: ignore[no-untyped-def]
    view = console.dashboard
    assert console.tabs.currentWidget() is view  # the first tab
    qtbot.waitUntil(lambda: console.controller.state == CONNECTED, timeout=10_000)
    sku = unique("FLOOR")
    admin.product(sku)
    here = new_fc(admin, 13.0)
    admin.receive(here, sku, 5)
    orders = [processing_order(shop, sku) for _ in range(2)]
    elsewhere_sku = unique("ELSEWHERE")
    admin.product(elsewhere_sku)
    elsewhere = new_fc(admin, 20.0)
    admin.receive(elsewhere, elsewhere_sku, 5)
    processing_order(shop, elsewhere_sku)  # placed this hour too, at another FC
    qtbot.keyClick(console, Qt.Key.Key_F5)  # the new FC in the FC list
    qtbot.waitUntil(lambda: view.fc_box.findText(here) >= 0, timeout=10_000)
    view.fc_box.setCurrentText(here)

    def processing_count() -> str:
        return view.counts.index(view.counts.rows().index(next(
            r for r in view.counts.rows() if r[0] == common_pb2.ORDER_STATUS_PROCESSING)),
            StatusCountsModel.COL_ORDERS).data()

    qtbot.waitUntil(lambda: processing_count() == "2", timeout=15_000)
    assert {view.aging.row_at(r).order_id for r in range(view.aging.rowCount())} == {
        o.order_id for o in orders}
    assert not view.aging.is_aging(0)  # placed seconds ago
    view.threshold.setValue(0)
    assert view.aging.is_aging(0)
    assert view.aging.index(0, 0).data(Qt.ItemDataRole.BackgroundRole).color() == AGING
    assert view.summary.text().startswith("2 orders in work, 2 aging past 0 min")
    # The chart is the server's count for that FC (GetThroughput), asked again on F5.
    view.throughput_fc = None
    qtbot.keyClick(console, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: view.throughput_fc == here, timeout=10_000)
    assert view.throughput["placed"][-1] == 2
    assert len(view.throughput["placed"]) == 12
    assert list(view.bars["placed"].opts["height"])[-1] == 2
    assert f"at {here}: placed 2, packed 0" in view.chart_note.text()
    screenshot(console, "floor_dashboard")
    view.fc_box.setCurrentText(ALL_FCS)  # every FC: the other FC's order counts too
    qtbot.waitUntil(lambda: view.throughput_fc == "", timeout=10_000)
    assert view.throughput["placed"][-1] == 3


def test_the_dashboard_summary_counts_one_order_in_the_singular(
        qtbot, console, admin, shop) -> None:  # type: ignore[no-untyped-def]
    view = console.dashboard
    qtbot.waitUntil(lambda: console.controller.state == CONNECTED, timeout=10_000)
    sku = unique("SINGLE")
    admin.product(sku)
    here = new_fc(admin, 16.0)
    admin.receive(here, sku, 5)
    processing_order(shop, sku)
    qtbot.keyClick(console, Qt.Key.Key_F5)  # the new FC in the FC list
    qtbot.waitUntil(lambda: view.fc_box.findText(here) >= 0, timeout=10_000)
    view.fc_box.setCurrentText(here)
    # Wait for the count, not the wording: a wrong plural then fails the assert, not a timeout.
    qtbot.waitUntil(lambda: view.summary.text().split(" ", 1)[0] == "1", timeout=15_000)
    assert view.summary.text().startswith("1 order in work, ")
    processing_order(shop, sku, customer="cust-2")
    qtbot.waitUntil(lambda: view.summary.text().split(" ", 1)[0] == "2", timeout=15_000)
    assert view.summary.text().startswith("2 orders in work, ")
