"""The console's table models, without widgets: qtmodeltester and the filter proxy."""

from __future__ import annotations

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from desktop.models import EventsModel, OrdersFilter, OrdersModel, RoutingModel, StockModel
from tote.v1 import common_pb2, fulfillment_pb2

pytestmark = pytest.mark.qt


def order(order_id: str, status: int, fc: str, method: str, customer: str
          ) -> common_pb2.Order:
    return common_pb2.Order(
        order_id=order_id, status=status, fc_id=fc, customer_id=customer,
        payment=common_pb2.PaymentInfo(method=method, state="authorized"),
        total=common_pb2.Money(amount_minor=49_900, currency="INR"),
        lines=[common_pb2.OrderLine(sku="SKU-MUG", quantity=1)],
        created_at=Timestamp(seconds=1_790_000_000))


ORDERS = [order("ORD-1", common_pb2.ORDER_STATUS_PROCESSING, "FC-BLR", "card", "cust-ana"),
          order("ORD-2", common_pb2.ORDER_STATUS_PACKED, "FC-DEL", "cod", "cust-ravi"),
          order("ORD-3", common_pb2.ORDER_STATUS_PROCESSING, "FC-DEL", "upi", "cust-ana")]


def test_orders_model_passes_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = OrdersModel()
    model.set_rows(ORDERS)
    qtmodeltester.check(model)
    assert model.rowCount() == 3
    assert model.index(1, OrdersModel.COL_STATUS).data() == "PACKED"
    assert model.index(0, OrdersModel.COL_TOTAL).data() == "₹499.00"


def test_set_rows_with_the_same_orders_keeps_rows_and_changes_values(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = OrdersModel()
    model.set_rows(ORDERS)
    changed = [*ORDERS[:2], order("ORD-3", common_pb2.ORDER_STATUS_PICKING, "FC-DEL", "upi",
                                  "cust-ana")]
    with qtbot.waitSignal(model.dataChanged, timeout=1000):
        model.set_rows(changed)
    assert model.index(2, OrdersModel.COL_STATUS).data() == "PICKING"


def test_orders_filter_by_status_fc_payment_customer_and_text(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = OrdersModel()
    model.set_rows(ORDERS)
    proxy = OrdersFilter()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)

    def ids() -> list[str]:
        return [proxy.index(r, OrdersModel.COL_ID).data() for r in range(proxy.rowCount())]

    proxy.set_filter(status="PROCESSING")
    assert ids() == ["ORD-1", "ORD-3"]
    proxy.set_filter(fc_id="FC-DEL")
    assert ids() == ["ORD-3"]
    proxy.set_filter(status="", fc_id="", payment="cod")
    assert ids() == ["ORD-2"]
    proxy.set_filter(payment="", customer="ana")
    assert ids() == ["ORD-1", "ORD-3"]
    proxy.set_filter(customer="", text="ord-2")
    assert ids() == ["ORD-2"]
    proxy.set_filter(text="")
    proxy.sort(OrdersModel.COL_ID, proxy.sortOrder().DescendingOrder)
    assert ids() == ["ORD-3", "ORD-2", "ORD-1"]


def test_events_model_passes_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = EventsModel()
    model.set_rows([common_pb2.OrderEvent(event_id="1", type="Order_Created",
                                          status=common_pb2.ORDER_STATUS_PENDING,
                                          detail="placed")])
    qtmodeltester.check(model)
    assert model.index(0, EventsModel.COL_TYPE).data() == "Order_Created"


def test_routing_model_shows_scores_and_factors_and_bolds_the_winner(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    model = RoutingModel()
    model.chosen_fc_id = "FC-BLR"
    model.set_rows([fulfillment_pb2.RoutingCandidate(fc_id="FC-BLR", score=0.91,
                                                     factors={"distance": 0.8}, reason="closest"),
                    fulfillment_pb2.RoutingCandidate(fc_id="FC-DEL", score=0.2, reason="far")])
    qtmodeltester.check(model)
    assert model.index(0, RoutingModel.COL_FACTORS).data() == "distance 0.80"
    assert model.index(0, 0).data(Qt.ItemDataRole.FontRole).bold()
    assert model.index(1, 0).data(Qt.ItemDataRole.FontRole) is None


def test_stock_model_passes_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = StockModel()
    model.set_rows([common_pb2.StockLevel(fc_id="FC-BLR", sku="SKU-MUG", on_hand=10,
                                          soft_locked=2, hard_locked=1, available=7)])
    qtmodeltester.check(model)
    assert model.index(0, StockModel.COL_AVAILABLE).data() == "7"
