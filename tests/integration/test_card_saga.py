"""Card orders from PlaceOrder to PROCESSING or CANCELLED, against a real tote and sandbox."""

from tests.harness import card, ledger, sandbox_card, unique
from tote.v1 import common_pb2 as pb

PROCESSING, CANCELLED = pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_CANCELLED


def test_card_order_with_stock_reaches_processing_with_events_in_causal_order(tote, admin, shop):
    sku = unique("MUG")
    admin.product(sku, price_minor=49_900, weight_grams=350)
    admin.receive("FC-BLR", sku, 5)
    placed = shop.place([(sku, 2)], card(sandbox_card(tote.sandbox_url)))
    assert placed.status == pb.ORDER_STATUS_PENDING
    # 2 × 499.00 + the quoted fee for 700 g (band up to 2000 g: 70.00)
    assert placed.total.amount_minor == 2 * 49_900 + 7_000
    assert placed.shipping_fee.amount_minor == 7_000

    order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert order.status == PROCESSING, order.cancel_reason
    assert order.payment.state == "authorized"
    assert order.payment.authorized.amount_minor == placed.total.amount_minor
    assert order.fc_id == "FC-BLR"

    types = [e.type for e in shop.events(placed.order_id, timeout_s=2)]
    assert types[0] == "Order_Created"
    assert sorted(types[1:3]) == ["Inventory_Locked", "Payment_Authorized"]
    assert types[3:] == ["Order_Ready_for_Fulfillment", "Order_Assigned"]
    assert shop.stock(sku) == (5, 2, 3)
    auths = [e for e in ledger(tote.sandbox_url, placed.order_id) if e["kind"] == "authorization"]
    assert [(a["amount_minor"], a["status"]) for a in auths] == [(placed.total.amount_minor,
                                                                  "authorized")]


def test_out_of_stock_cancels_with_a_reason_and_voids_the_hold(tote, admin, shop):
    sku = unique("LAMP")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 1)
    placed = shop.place([(sku, 3)], card(sandbox_card(tote.sandbox_url)))
    order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert order.status == CANCELLED
    assert f"out of stock: {sku} needs 3, 1 available" in order.cancel_reason
    assert order.payment.state == "voided"
    kinds = sorted((e["kind"], e["status"]) for e in ledger(tote.sandbox_url, placed.order_id))
    assert kinds == [("authorization", "authorized"), ("void", "voided")]
    assert shop.stock(sku) == (1, 0, 1)
    types = [e.type for e in shop.events(placed.order_id)]
    assert "Inventory_Failure" in types and "Payment_Voided" in types
    assert types[-1] == "Order_Cancelled"


def test_declined_card_cancels_and_releases_soft_locks(tote, admin, shop):
    sku = unique("CUP")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 4)
    placed = shop.place([(sku, 2)], card(sandbox_card(tote.sandbox_url, "4000000000000002")))
    order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert order.status == CANCELLED
    assert "card declined" in order.cancel_reason
    assert shop.stock(sku) == (4, 0, 4)
    types = [e.type for e in shop.events(placed.order_id)]
    assert "Payment_Failed" in types
    assert ("Inventory_Released" in types) == ("Inventory_Locked" in types)
    assert types[-1] == "Order_Cancelled"


def test_card_that_answers_500_once_is_retried_and_authorized_once(tote, admin, shop):
    sku = unique("PEN")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 2)
    placed = shop.place([(sku, 1)], card(sandbox_card(tote.sandbox_url, "4000000000000119")))
    order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert order.status == PROCESSING, order.cancel_reason
    auths = [e for e in ledger(tote.sandbox_url, placed.order_id) if e["kind"] == "authorization"]
    assert len(auths) == 1


def test_customer_cancels_a_processing_order_the_hold_is_voided_and_stock_released(
        tote, admin, shop):
    from tote.v1 import orders_pb2

    sku = unique("VASE")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 3)
    placed = shop.place([(sku, 2)], card(sandbox_card(tote.sandbox_url)))
    assert shop.wait_status(placed.order_id, {PROCESSING, CANCELLED}).status == PROCESSING
    order = shop.orders.CancelOrder(orders_pb2.CancelOrderRequest(
        order_id=placed.order_id, reason="found it cheaper"), metadata=shop.metadata)
    assert order.status == CANCELLED
    assert order.cancel_reason == "cancelled by the customer: found it cheaper"
    assert order.payment.state == "voided"
    assert shop.stock(sku) == (3, 0, 3)
    kinds = sorted(e["kind"] for e in ledger(tote.sandbox_url, placed.order_id))
    assert kinds == ["authorization", "void"]
