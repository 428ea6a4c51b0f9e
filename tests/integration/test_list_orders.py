"""ListOrders: the status and FC filters, pages over many orders (newest first, each order once
even while new ones arrive or others leave the filter), bad page tokens, tokens of another
listing and bad sizes refused, and a storefront's own orders."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import grpc
import pytest

from tests.harness import Client, cod, unique, upi
from tote.v1 import common_pb2 as pb
from tote.v1 import orders_pb2

PENDING, PROCESSING, CANCELLED = (pb.ORDER_STATUS_PENDING, pb.ORDER_STATUS_PROCESSING,
                                  pb.ORDER_STATUS_CANCELLED)


@pytest.fixture
def storefront(tote) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    """A storefront of its own, so its lists hold exactly the orders this test placed."""
    client = tote.client(tote.token("storefront", unique("shop")))
    yield client
    client.close()


@pytest.fixture(scope="module")
def sku(admin) -> str:  # type: ignore[no-untyped-def]
    sku = unique("PEN")
    admin.product(sku, price_minor=1_000, weight_grams=100)
    admin.receive("FC-BLR", sku, 5_000)
    return sku


def page(client: Client, **kw) -> orders_pb2.ListOrdersResponse:  # type: ignore[no-untyped-def]
    return client.orders.ListOrders(orders_pb2.ListOrdersRequest(**kw), metadata=client.metadata)


def every_page(client: Client, **kw) -> list[list[str]]:  # type: ignore[no-untyped-def]
    pages, token = [], ""
    while True:
        reply = page(client, page_token=token, **kw)
        pages.append([o.order_id for o in reply.orders])
        token = reply.next_page_token
        if not token:
            return pages


def refused(client: Client, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as exc:
        page(client, **kw)
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT, exc.value.details()
    return exc.value.details()


def test_the_status_filter_lists_exactly_the_orders_in_that_status(storefront, sku):
    processing = [storefront.place([(sku, 1)], cod()).order_id for _ in range(3)]
    cancelled = [storefront.place([(sku, 1)], cod()).order_id for _ in range(2)]
    pending = [storefront.place([(sku, 1)], upi()).order_id for _ in range(2)]
    for order_id in processing:
        assert storefront.wait_status(order_id, {PROCESSING}).status == PROCESSING
    for order_id in cancelled:
        storefront.orders.CancelOrder(orders_pb2.CancelOrderRequest(order_id=order_id),
                                      metadata=storefront.metadata)
    for order_id in pending:
        assert storefront.get(order_id).status == PENDING

    def listed(status: int) -> set[str]:
        orders = page(storefront, status=status, page_size=100).orders
        assert {o.status for o in orders} <= {status}
        return {o.order_id for o in orders}

    assert listed(PROCESSING) == set(processing)
    assert listed(CANCELLED) == set(cancelled)
    assert listed(PENDING) == set(pending)
    assert listed(pb.ORDER_STATUS_DELIVERED) == set()
    assert {o.order_id for o in page(storefront, page_size=100).orders} == {
        *processing, *cancelled, *pending}
    assert "status" in refused(storefront, status=99)


def test_the_fc_filter_lists_the_orders_routed_to_that_fc(tote, admin, storefront, sku):
    admin.fc("FC-DEL", lat=28.61, lon=77.21)
    delhi_sku = unique("KITE")
    admin.product(delhi_sku, price_minor=2_000)
    admin.receive("FC-DEL", delhi_sku, 10)  # only Delhi has it: its orders go there
    blr = [storefront.place([(sku, 1)], cod()).order_id for _ in range(2)]
    dl = [storefront.place([(delhi_sku, 1)], cod()).order_id for _ in range(3)]
    for order_id in blr + dl:
        assert storefront.wait_status(order_id, {PROCESSING}).status == PROCESSING
    assert {storefront.get(i).fc_id for i in dl} == {"FC-DEL"}

    def listed(**kw) -> set[str]:  # type: ignore[no-untyped-def]
        orders = page(storefront, page_size=100, **kw).orders
        return {o.order_id for o in orders}

    assert listed(fc_id="FC-DEL") == set(dl)
    assert listed(fc_id="FC-BLR") == set(blr)
    assert listed(fc_id="FC-DEL", status=PROCESSING) == set(dl)
    assert listed(fc_id="FC-DEL", status=CANCELLED) == set()
    assert listed(fc_id="FC-NOWHERE") == set()
    # A supervisor sees every storefront's Delhi orders; each is routed there.
    every = page(admin, fc_id="FC-DEL", page_size=500).orders
    assert set(dl) <= {o.order_id for o in every}
    assert {o.fc_id for o in every} == {"FC-DEL"}


def test_pages_hold_every_order_once_newest_first_while_new_orders_arrive(storefront, sku):
    placed = [storefront.place([(sku, 1)], cod()).order_id for _ in range(23)]
    pages, token, arrived = [], "", []
    while True:
        reply = page(storefront, page_size=5, page_token=token)
        pages.append([o.order_id for o in reply.orders])
        # An order placed between two pages is newer than the cursor: it is on none of the
        # pages still to come, and never makes one of those repeat or skip an order.
        arrived.append(storefront.place([(sku, 1)], cod()).order_id)
        token = reply.next_page_token
        if not token:
            break
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    listed = [order_id for p in pages for order_id in p]
    assert listed == list(reversed(placed))  # newest first, each once, none missing
    # A new listing starts with what arrived meanwhile.
    fresh = every_page(storefront, page_size=7)
    assert [order_id for p in fresh for order_id in p] == list(reversed(placed + arrived))


def test_page_size_zero_is_the_default_50_and_a_larger_size_is_capped_at_500(storefront, sku):
    placed = [storefront.place([(sku, 1)], cod()).order_id for _ in range(503)]
    first = page(storefront)
    assert len(first.orders) == 50 and first.next_page_token
    big = page(storefront, page_size=2**31 - 1)
    assert len(big.orders) == 500 and big.next_page_token
    rest = page(storefront, page_size=500, page_token=big.next_page_token)
    assert len(rest.orders) == 3 and rest.next_page_token == ""
    assert [o.order_id for o in [*big.orders, *rest.orders]] == list(reversed(placed))


@pytest.mark.parametrize("token", [
    "garbage", "%%%%", "////", base64.urlsafe_b64encode(b"ord_").decode(),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    base64.urlsafe_b64encode(b"zzzz' OR 1=1 --").decode(), "x" * 10_000])
def test_a_page_token_the_server_never_gave_out_is_invalid_argument(storefront, sku, token):
    storefront.place([(sku, 1)], cod())
    message = refused(storefront, page_token=token)
    assert "page_token" in message and len(message) < 200


def test_a_negative_page_size_is_invalid_argument(storefront):
    assert "page_size" in refused(storefront, page_size=-1)


def test_a_storefront_pages_through_its_own_orders_only(tote, storefront, sku):
    other = tote.client(tote.token("storefront", unique("shop")))
    try:
        mine = {storefront.place([(sku, 1)], cod()).order_id for _ in range(4)}
        theirs = {other.place([(sku, 1)], cod()).order_id for _ in range(4)}
        pages = every_page(storefront, page_size=3)
        assert {i for p in pages for i in p} == mine
        # Another storefront's cursor is not this one's to use.
        token = page(other, page_size=2).next_page_token
        assert "page_token" in refused(storefront, page_token=token)
        assert {i for p in every_page(other, page_size=3) for i in p} == theirs
    finally:
        other.close()


def test_an_order_leaving_the_filter_between_pages_makes_no_other_order_skip(storefront, sku):
    # UPI orders wait for the customer's approval: they stay PENDING until cancelled.
    placed = [storefront.place([(sku, 1)], upi()).order_id for _ in range(9)]
    first = page(storefront, status=PENDING, page_size=3)
    assert [o.order_id for o in first.orders] == placed[:-4:-1]
    for o in first.orders:  # the first page's orders leave PENDING before the next page
        storefront.orders.CancelOrder(orders_pb2.CancelOrderRequest(order_id=o.order_id),
                                      metadata=storefront.metadata)
        # (The UPI intent's cancellation at the gateway may finish after the reply.)
        assert storefront.wait_status(o.order_id, {CANCELLED}).status == CANCELLED
    # The token is a place in the list, not a count of rows to skip: nothing moves past it.
    rest = every_page(storefront, status=PENDING, page_size=3)  # a fresh listing: 6 left
    second = page(storefront, status=PENDING, page_size=3, page_token=first.next_page_token)
    assert [o.order_id for o in second.orders] == placed[5:2:-1] == rest[0]
    third = page(storefront, status=PENDING, page_size=3, page_token=second.next_page_token)
    assert [o.order_id for o in third.orders] == placed[2::-1]
    assert third.next_page_token == ""


def test_a_page_token_given_for_other_filters_is_invalid_argument(tote, storefront, sku):
    for _ in range(3):
        storefront.place([(sku, 1)], cod(), customer_id="cust-a")
        storefront.place([(sku, 1)], upi(), customer_id="cust-b")
    token = page(storefront, customer_id="cust-a", page_size=1).next_page_token
    assert token
    # Same filters: honoured, whatever the page size.
    assert page(storefront, customer_id="cust-a", page_size=2, page_token=token).orders
    for other in ({}, {"customer_id": "cust-b"}, {"status": PENDING},
                  {"customer_id": "cust-a", "fc_id": "FC-BLR"},
                  {"customer_id": "cust-a", "status": PROCESSING}):
        message = refused(storefront, page_token=token, **other)
        assert "page_token" in message and "filters" in message, other
    # A supervisor's listing is another listing too.
    boss = tote.client(tote.token("supervisor", unique("boss")))
    try:
        assert "page_token" in refused(boss, customer_id="cust-a", page_token=token)
    finally:
        boss.close()
