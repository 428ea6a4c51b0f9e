"""No oversell, ever: concurrent orders against little stock, on SQLite and PostgreSQL."""

import collections
import concurrent.futures

import grpc

from tests.harness import card, cod, sandbox_card, unique
from tote.v1 import common_pb2 as pb

PROCESSING, CANCELLED = pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_CANCELLED


def test_200_concurrent_orders_on_stock_50_make_exactly_50_processing(tote, admin, shop):
    sku = unique("HOT")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 50)
    token = sandbox_card(tote.sandbox_url)
    codes: collections.Counter[str] = collections.Counter()

    def place(i: int) -> str | None:
        try:
            return shop.place([(sku, 1)], card(token) if i % 2 else cod()).order_id
        except grpc.RpcError as exc:
            codes[f"{exc.code().name}: {exc.details()}"] += 1
            return None

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        ids = [i for i in pool.map(place, range(200)) if i]
    assert codes == {} and len(ids) == 200
    finals = [shop.wait_status(i, {PROCESSING, CANCELLED}, timeout_s=60) for i in ids]
    statuses = collections.Counter(o.status for o in finals)
    assert statuses == {PROCESSING: 50, CANCELLED: 150}
    assert all("out of stock" in o.cancel_reason for o in finals if o.status == CANCELLED)
    assert shop.stock(sku) == (50, 50, 0)


def test_two_lines_of_one_sku_whose_sum_exceeds_stock_are_refused(tote, admin, shop):
    sku = unique("DUO")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 3)
    placed = shop.place([(sku, 2), (sku, 2)], cod())
    order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert order.status == CANCELLED
    assert f"{sku} needs 4, 3 available" in order.cancel_reason
    assert shop.stock(sku) == (3, 0, 3)


def test_an_order_split_over_two_fcs_locks_at_both_when_neither_has_it_all(tote, admin, shop):
    sku = unique("SPLIT")
    admin.fc("FC-DEL", 28.6, 77.2)
    admin.product(sku)
    admin.receive("FC-BLR", sku, 2)
    admin.receive("FC-DEL", sku, 2)
    placed = shop.place([(sku, 3)], cod())
    order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert order.status == PROCESSING, order.cancel_reason
    assert shop.stock(sku) == (4, 3, 1)
