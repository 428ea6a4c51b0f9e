"""Cash on delivery, and PlaceOrder's idempotency keys."""

import concurrent.futures

import grpc
import pytest

from tests.harness import card, cod, ledger, place_request, sandbox_card, unique
from tote.v1 import common_pb2 as pb
from tote.v1 import orders_pb2

PROCESSING, CANCELLED = pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_CANCELLED


def _count_orders(client) -> int:  # type: ignore[no-untyped-def]
    total, token = 0, ""
    while True:
        page = client.orders.ListOrders(orders_pb2.ListOrdersRequest(page_size=500,
                                                                     page_token=token),
                                        metadata=client.metadata)
        total += len(page.orders)
        token = page.next_page_token
        if not token:
            return total


def test_cod_order_reaches_processing_without_calling_the_gateway(tote, admin, shop):
    sku = unique("BAG")
    admin.product(sku, price_minor=120_000)
    admin.receive("FC-BLR", sku, 2)
    placed = shop.place([(sku, 1)], cod())
    order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert order.status == PROCESSING, order.cancel_reason
    assert order.payment.method == "cod" and order.payment.state == "cod_pending"
    assert ledger(tote.sandbox_url, placed.order_id) == []


def test_cod_over_the_limit_is_invalid_and_stores_nothing(tote, admin, shop):
    sku = unique("TV")
    admin.product(sku, price_minor=2_500_000, weight_grams=9000)  # over the 20,000.00 limit
    admin.receive("FC-BLR", sku, 2)
    before = _count_orders(admin)
    with pytest.raises(grpc.RpcError) as err:
        shop.place([(sku, 1)], cod())
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "cash on delivery is accepted up to ₹20,000.00" in err.value.details()
    assert _count_orders(admin) == before
    assert shop.stock(sku) == (2, 0, 2)


def test_same_key_and_body_ten_times_is_one_order_one_authorization_identical_replies(
        tote, admin, shop):
    sku = unique("BOOK")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 5)
    request = place_request([(sku, 1)], card(sandbox_card(tote.sandbox_url)), key=unique("k"))
    replies = [shop.orders.PlaceOrder(request, metadata=shop.metadata) for _ in range(10)]
    assert len({r.SerializeToString(deterministic=True) for r in replies}) == 1
    order = shop.wait_status(replies[0].order_id, {PROCESSING, CANCELLED})
    assert order.status == PROCESSING
    again = shop.orders.PlaceOrder(request, metadata=shop.metadata)
    assert again == replies[0]  # still the reply as first given, not a new saga
    auths = [e for e in ledger(tote.sandbox_url, order.order_id) if e["kind"] == "authorization"]
    assert len(auths) == 1
    assert shop.stock(sku) == (5, 1, 4)


def test_same_key_with_a_different_body_is_a_failed_precondition(tote, admin, shop):
    sku = unique("BOX")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 5)
    key = unique("k")
    first = shop.place([(sku, 1)], cod(), key=key)
    with pytest.raises(grpc.RpcError) as err:
        shop.place([(sku, 2)], cod(), key=key)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert first.order_id in err.value.details()


def test_twenty_concurrent_calls_with_one_key_make_exactly_one_order(tote, admin, shop):
    sku = unique("CAP")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 50)
    request = place_request([(sku, 1)], card(sandbox_card(tote.sandbox_url)), key=unique("k"))
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(
            lambda _: shop.orders.PlaceOrder(request, metadata=shop.metadata), range(20)))
    assert len({r.order_id for r in replies}) == 1
    order = shop.wait_status(replies[0].order_id, {PROCESSING, CANCELLED})
    assert order.status == PROCESSING
    assert shop.stock(sku) == (50, 1, 49)
    auths = [e for e in ledger(tote.sandbox_url, order.order_id) if e["kind"] == "authorization"]
    assert len(auths) == 1


def test_another_storefront_may_reuse_a_key_for_its_own_order(tote, admin, shop):
    sku = unique("KEY")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 5)
    other = tote.client(tote.token("storefront", "shop-b"))
    key = unique("k")
    a = shop.place([(sku, 1)], cod(), key=key)
    b = other.place([(sku, 2)], cod(), key=key)
    assert a.order_id != b.order_id
    other.close()
