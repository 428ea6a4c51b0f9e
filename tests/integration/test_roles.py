"""Roles at work, through real gRPC with real tokens: a supervisor picks and packs at the
problem-solving desk, a picker token stays at its FC, a storefront reads the catalog."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from tests import live_server
from tests.harness import Client, cod, unique
from tote.v1 import catalog_pb2, common_pb2, fulfillment_pb2

PROCESSING, PACKED = common_pb2.ORDER_STATUS_PROCESSING, common_pb2.ORDER_STATUS_PACKED


db_url = live_server.db_url  # SQLite only: who may call what does not depend on the backend


@pytest.fixture(scope="module")
def supervisor(tote, admin) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    client = tote.client(tote.token("supervisor", "desk"))
    yield client
    client.close()


def refused(fn) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as exc:
        fn()
    return exc.value


def ready_order(admin: Client, shop: Client, fc_id: str) -> tuple[str, str]:
    """(order id, the unit's GTIN) of a one-unit COD order waiting to be picked at fc_id."""
    sku = unique("DESK")
    admin.product(sku, price_minor=20_000, weight_grams=350)
    admin.receive(fc_id, sku, 1)
    order_id = shop.place([(sku, 1)], cod()).order_id
    assert shop.wait_status(order_id, {PROCESSING}).status == PROCESSING
    return order_id, "4006381333931"


def pick_all(client: Client, fc_id: str, order_id: str) -> None:
    """NextPickTask and ScanItem with client's token until order_id's units are all scanned."""
    for _ in range(20):
        task = client.fulfillment.NextPickTask(
            fulfillment_pb2.NextPickTaskRequest(fc_id=fc_id), metadata=client.metadata)
        for line in task.lines:
            for i in range(line.quantity - line.picked):
                client.fulfillment.ScanItem(fulfillment_pb2.ScanItemRequest(
                    task_id=task.task_id, barcode=line.gtin, scan_id=f"{line.line_id}-{i}"),
                    metadata=client.metadata)
        if order_id in {ln.order_id for ln in task.lines}:
            return
    raise AssertionError(f"no pick task of {fc_id} held {order_id}")


def pack(client: Client, order_id: str) -> fulfillment_pb2.PackResult:
    return client.fulfillment.PackOrder(fulfillment_pb2.PackOrderRequest(
        order_id=order_id, weight_grams=350 + 250, box="M"), metadata=client.metadata,
        timeout=60)


def test_a_supervisor_picks_and_packs_an_order_at_the_problem_solving_desk(
        admin, shop, supervisor):
    fc_id = unique("FC")
    admin.fc(fc_id)
    order_id, _ = ready_order(admin, shop, fc_id)
    pick_all(supervisor, fc_id, order_id)
    packed = pack(supervisor, order_id).order
    assert packed.status == PACKED and packed.tracking_number
    assert supervisor.get(order_id).status == PACKED


def test_a_picker_token_still_packs_at_its_own_fc_only(tote, admin, shop, supervisor):
    here, there = unique("FC"), unique("FC")
    admin.fc(here)
    admin.fc(there)
    order_id, gtin = ready_order(admin, shop, there)
    mine = tote.client(tote.token("picker", "hh-1", here))
    try:
        err = refused(lambda: mine.fulfillment.NextPickTask(
            fulfillment_pb2.NextPickTaskRequest(fc_id=there), metadata=mine.metadata))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED, err.details()
        pick_all(supervisor, there, order_id)
        err = refused(lambda: pack(mine, order_id))
        # Not a state the order is in: the token may not do it here (issue 13).
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED, err.details()
        assert there in err.details() and here in err.details()
        assert shop.get(order_id).status != PACKED
    finally:
        mine.close()
    assert pack(supervisor, order_id).order.status == PACKED


def test_a_storefront_reads_the_catalog_but_cannot_change_it(admin, shop):
    sku = unique("READ")
    admin.product(sku, price_minor=12_345)
    product = shop.catalog.GetProduct(catalog_pb2.GetProductRequest(sku=sku),
                                      metadata=shop.metadata)
    assert (product.sku, product.unit_price.amount_minor) == (sku, 12_345)
    listed, token = set(), ""
    for _ in range(100):
        page = shop.catalog.ListProducts(catalog_pb2.ListProductsRequest(
            page_size=50, page_token=token), metadata=shop.metadata)
        listed |= {p.sku for p in page.products}
        token = page.next_page_token
        if not token:
            break
    assert sku in listed
    err = refused(lambda: shop.catalog.UpsertProduct(catalog_pb2.UpsertProductRequest(
        product=common_pb2.Product(sku=sku, name="cheaper", gtin="4006381333931",
                                   unit_price=common_pb2.Money(amount_minor=1, currency="INR"),
                                   weight_grams=1)), metadata=shop.metadata))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert shop.catalog.GetProduct(catalog_pb2.GetProductRequest(sku=sku),
                                   metadata=shop.metadata).unit_price.amount_minor == 12_345
