"""Picking against a real tote: pick tasks in bin order, scans that hard-lock units, short picks.

Every test works in its own fulfillment center, so the queues of other tests never mix in.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from core.domain.gtin import gs1_check_digit
from core.persistence import tables
from core.persistence.db import Database
from tests.conftest import BACKENDS, migrated_database
from tests.harness import Client, ToteServer, cod, unique
from tote.v1 import common_pb2 as pb
from tote.v1 import fulfillment_pb2 as fpb
from tote.v1 import inventory_pb2

PROCESSING, PICKING, CANCELLED = (pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_PICKING,
                                  pb.ORDER_STATUS_CANCELLED)


def new_gtin() -> str:
    body = "40" + str(uuid.uuid4().int)[:10]
    return body + str(gs1_check_digit(body))


def product(admin: Client, fc_id: str, quantity: int, bin_: str = "A-01-1") -> tuple[str, str]:
    sku, gtin = unique("SKU"), new_gtin()
    admin.product(sku, price_minor=10_000, gtin=gtin)
    stock_at(admin, fc_id, sku, quantity, bin_)
    return sku, gtin


def stock_at(admin: Client, fc_id: str, sku: str, quantity: int, bin_: str = "A-01-1") -> None:
    admin.inventory.ReceiveStock(inventory_pb2.ReceiveStockRequest(
        fc_id=fc_id, sku=sku, quantity=quantity, bin=bin_), metadata=admin.metadata)


def level(admin: Client, fc_id: str, sku: str) -> tuple[int, int, int]:
    """(on_hand, soft_locked, hard_locked) of a SKU at one FC."""
    levels = admin.inventory.GetStock(inventory_pb2.GetStockRequest(sku=sku, fc_id=fc_id),
                                      metadata=admin.metadata).levels
    return (levels[0].on_hand, levels[0].soft_locked, levels[0].hard_locked) if levels else (
        0, 0, 0)


def ready_order(shop: Client, lines: list[tuple[str, int]]) -> str:
    placed = shop.place(lines, cod())
    order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert order.status == PROCESSING, order.cancel_reason
    return placed.order_id


def picker(tote, fc_id: str, name: str = "") -> Client:  # type: ignore[no-untyped-def]
    return tote.client(tote.token("picker", name or unique("picker"), fc_id))


def next_task(client: Client, fc_id: str) -> fpb.PickTask:
    return client.fulfillment.NextPickTask(fpb.NextPickTaskRequest(fc_id=fc_id),
                                           metadata=client.metadata)


def scan(client: Client, task_id: str, barcode: str, scan_id: str = "") -> fpb.ScanResult:
    return client.fulfillment.ScanItem(fpb.ScanItemRequest(
        task_id=task_id, barcode=barcode, scan_id=scan_id or uuid.uuid4().hex),
        metadata=client.metadata)


def short(client: Client, task_id: str, line_id: str, missing: int):  # type: ignore[no-untyped-def]
    return client.fulfillment.ReportShortPick(fpb.ReportShortPickRequest(
        task_id=task_id, line_id=line_id, missing=missing), metadata=client.metadata)


def refused(call, code: grpc.StatusCode) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == code, info.value.details()
    return str(info.value.details())


def test_task_walks_the_bin_path_and_a_scan_hard_locks_one_unit(tote, admin, shop, fc):
    items = {b: product(admin, fc, 5, b) for b in ("B-02-1", "A-05-1", "B-07-1", "A-01-2")}
    order_id = ready_order(shop, [(sku, 2) for sku, _ in items.values()])
    p = picker(tote, fc)
    task = next_task(p, fc)
    assert task.fc_id == fc
    assert [ln.bin for ln in task.lines] == ["A-01-2", "A-05-1", "B-07-1", "B-02-1"]
    assert {(ln.order_id, ln.quantity, ln.picked) for ln in task.lines} == {(order_id, 2, 0)}
    assert shop.get(order_id).status == PICKING

    sku, gtin = items["A-05-1"]
    result = scan(p, task.task_id, gtin)
    assert (result.line.sku, result.line.picked, result.task_complete) == (sku, 1, False)
    assert level(admin, fc, sku) == (5, 1, 1)
    picked = [e.detail for e in shop.events(order_id, timeout_s=1) if e.type == "Item_Picked"]
    assert picked == [f"1×{sku} from bin A-05-1 (1/2)"]
    # Nothing is waiting any more: the order's lines are all in this task.
    refused(lambda: next_task(p, fc), grpc.StatusCode.NOT_FOUND)

    for sku, gtin in items.values():
        while True:
            result = scan(p, task.task_id, gtin)
            if result.line.picked == 2:
                break
        assert level(admin, fc, sku) == (5, 0, 2)
    assert result.task_complete
    refused(lambda: scan(p, task.task_id, gtin), grpc.StatusCode.FAILED_PRECONDITION)


def test_wrong_scan_is_refused_naming_what_was_expected_and_changes_nothing(
        tote, admin, shop, fc):
    sku, gtin = product(admin, fc, 3, "A-03-2")
    ready_order(shop, [(sku, 1)])
    p = picker(tote, fc)
    task = next_task(p, fc)
    wrong = new_gtin()
    message = refused(lambda: scan(p, task.task_id, wrong, "s-wrong"),
                      grpc.StatusCode.FAILED_PRECONDITION)
    assert message == f"expected GTIN {gtin} (SKU {sku}) from bin A-03-2; scanned {wrong}"
    refused(lambda: scan(p, task.task_id, "not a barcode"), grpc.StatusCode.FAILED_PRECONDITION)
    assert level(admin, fc, sku) == (3, 1, 0)
    # A refused scan is not remembered: its scan_id may carry the right barcode next.
    assert scan(p, task.task_id, gtin, "s-wrong").line.picked == 1
    assert level(admin, fc, sku) == (3, 0, 1)


def test_the_same_scan_id_counts_once_and_gets_the_same_reply(tote, admin, shop, fc):
    sku, gtin = product(admin, fc, 4)
    ready_order(shop, [(sku, 3)])
    p = picker(tote, fc)
    task = next_task(p, fc)
    first = scan(p, task.task_id, gtin, "scan-1")
    again = scan(p, task.task_id, gtin, "scan-1")
    assert first == again and first.line.picked == 1
    assert level(admin, fc, sku) == (4, 2, 1)
    message = refused(lambda: scan(p, task.task_id, new_gtin(), "scan-1"),
                      grpc.StatusCode.FAILED_PRECONDITION)
    assert "scan-1" in message and "new scan_id" in message
    # The GTIN-14 of the same item (a leading zero) reads as that item too.
    assert scan(p, task.task_id, "0" + gtin, "scan-2").line.picked == 2
    with ThreadPoolExecutor(8) as pool:  # a flaky link retrying one scan many times at once
        replies = list(pool.map(lambda _: scan(p, task.task_id, gtin, "scan-3"), range(8)))
    assert {r.line.picked for r in replies} == {3} and all(r.task_complete for r in replies)
    # Retried once the task is done (and the task is no longer open): the first reply still.
    assert scan(p, task.task_id, gtin, "scan-3") == replies[0]
    assert level(admin, fc, sku) == (4, 0, 3)


def test_many_pickers_asking_at_once_never_get_the_same_line(tote, admin, shop, fc):
    skus = [product(admin, fc, 40, f"A-{i:02d}-1")[0] for i in range(1, 3)]
    orders = {ready_order(shop, [(skus[0], 1), (skus[1], 1)]) for _ in range(14)}
    pickers = [picker(tote, fc) for _ in range(12)]

    def ask(p: Client) -> list[fpb.PickTask]:
        tasks = []
        while True:
            try:
                tasks.append(next_task(p, fc))
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.NOT_FOUND, exc.details()
                return tasks

    with ThreadPoolExecutor(len(pickers)) as pool:
        tasks = [t for ts in pool.map(ask, pickers) for t in ts]
    lines = [ln.line_id for t in tasks for ln in t.lines]
    assert len(lines) == len(set(lines)) == 2 * len(orders)
    assert {ln.order_id for t in tasks for ln in t.lines} == orders
    assert all(len({ln.order_id for ln in t.lines}) <= 4 for t in tasks)


@pytest.fixture(params=BACKENDS)
def quick_timeout(request, tmp_path) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    """A tote serve of its own whose pick tasks are abandoned after one untouched second."""
    with migrated_database(request, tmp_path) as url:
        server = ToteServer(url, tmp_path, args=["--pick-task-timeout-s", "1"]).start()
        try:
            yield server
        finally:
            server.terminate()


def test_an_abandoned_task_returns_its_unpicked_lines_to_the_queue(quick_timeout):
    tote = quick_timeout
    admin, shop = tote.client(tote.token("admin", "ops")), tote.client(tote.token("storefront"))
    fc = unique("FC")
    admin.fc(fc)
    sku, gtin = product(admin, fc, 5)
    ready_order(shop, [(sku, 2)])
    first, second = picker(tote, fc), picker(tote, fc)
    task = next_task(first, fc)
    scan(first, task.task_id, gtin)
    # The server itself gives the task up once nobody has touched it for a second: the second
    # picker is refused until then, and offered the unpicked unit after. The deadline only
    # catches a server that never requeues (its default timeout is ten minutes).
    deadline = time.monotonic() + 60
    refusals = 0
    while True:
        try:
            again = next_task(second, fc)
            break
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.NOT_FOUND, exc.details()
            assert time.monotonic() < deadline, "the abandoned task was never offered again"
            refusals += 1
            time.sleep(0.1)
    assert refusals > 0  # it was not offered while the first picker still held it
    assert [(ln.line_id, ln.picked) for ln in again.lines] == [(task.lines[0].line_id, 1)]
    message = refused(lambda: scan(first, task.task_id, gtin),
                      grpc.StatusCode.FAILED_PRECONDITION)
    assert "abandoned" in message
    assert scan(second, again.task_id, gtin).task_complete
    assert level(admin, fc, sku) == (5, 0, 2)


def test_a_short_pick_reroutes_the_missing_units_to_another_fc(tote, admin, shop, fc):
    other = unique("FC")
    admin.fc(other, lat=28.61, lon=77.21)  # far from the customer: routing prefers `fc`
    sku, gtin = product(admin, fc, 5, "C-01-1")
    stock_at(admin, other, sku, 3, "D-04-2")
    order_id = ready_order(shop, [(sku, 2)])
    p = picker(tote, fc)
    task = next_task(p, fc)
    scan(p, task.task_id, gtin)
    result = short(p, task.task_id, task.lines[0].line_id, 1)
    assert result.task_complete and result.line.picked == 1
    assert level(admin, fc, sku) == (4, 0, 1)  # the missing unit left the shelf's count
    assert level(admin, other, sku) == (3, 1, 0)
    # The same report retried over a flaky link changes nothing.
    short(p, task.task_id, task.lines[0].line_id, 1)
    assert (level(admin, fc, sku), level(admin, other, sku)) == ((4, 0, 1), (3, 1, 0))
    assigned = [e.detail for e in shop.events(order_id, timeout_s=1)
                if e.type == "Order_Assigned"]
    assert assigned[-1] == f"1×{sku} re-routed to {other} after a short pick at {fc}"

    there = picker(tote, other)
    rerouted = next_task(there, other)
    assert [(ln.order_id, ln.sku, ln.bin, ln.quantity) for ln in rerouted.lines] == [
        (order_id, sku, "D-04-2", 1)]
    assert scan(there, rerouted.task_id, gtin).task_complete
    assert level(admin, other, sku) == (3, 0, 1)
    assert shop.get(order_id).status == PICKING


def test_units_no_fc_has_are_cancelled_and_an_order_left_empty_is_cancelled(
        tote, admin, shop, fc):
    kept, kept_gtin = product(admin, fc, 3, "A-01-1")
    gone, _ = product(admin, fc, 2, "A-02-1")
    order_id = ready_order(shop, [(kept, 1), (gone, 2)])
    p = picker(tote, fc)
    task = next_task(p, fc)
    line = {ln.sku: ln for ln in task.lines}
    refused(lambda: short(p, task.task_id, line[gone].line_id, 3),
            grpc.StatusCode.INVALID_ARGUMENT)
    result = short(p, task.task_id, line[gone].line_id, 2)
    assert not result.task_complete
    assert level(admin, fc, gone) == (0, 0, 0)
    released = [e.detail for e in shop.events(order_id, timeout_s=1)
                if e.type == "Inventory_Released"]
    assert released == [f"2×{gone} cancelled: out of stock everywhere; the customer will not "
                        "be charged for it"]
    assert shop.get(order_id).status == PICKING  # the other line still ships

    short(p, task.task_id, line[kept].line_id, 1)
    order = shop.wait_status(order_id, {CANCELLED})
    assert order.status == CANCELLED, order
    assert "short-picked" in order.cancel_reason
    assert order.payment.state == "cancelled"
    assert level(admin, fc, kept) == (2, 0, 0)
    refused(lambda: scan(p, task.task_id, kept_gtin), grpc.StatusCode.FAILED_PRECONDITION)


def test_a_scan_for_a_cancelled_order_says_to_put_the_item_back(tote, admin, shop, fc):
    from tote.v1 import orders_pb2

    sku, gtin = product(admin, fc, 2, "E-09-3")
    order_id = ready_order(shop, [(sku, 1)])
    p = picker(tote, fc)
    task = next_task(p, fc)
    shop.orders.CancelOrder(orders_pb2.CancelOrderRequest(order_id=order_id, reason="changed mind"),
                            metadata=shop.metadata)
    assert shop.wait_status(order_id, {CANCELLED}).status == CANCELLED
    message = refused(lambda: scan(p, task.task_id, gtin), grpc.StatusCode.FAILED_PRECONDITION)
    assert message == f"order {order_id} was cancelled: put the item back in bin E-09-3 (SKU {sku})"
    assert level(admin, fc, sku) == (2, 0, 0)


def test_a_picker_token_works_at_its_own_fc_only(tote, admin, shop, fc):
    elsewhere = unique("FC")
    admin.fc(elsewhere)
    sku, gtin = product(admin, elsewhere, 2)
    ready_order(shop, [(sku, 1)])
    mine = picker(tote, fc)
    refused(lambda: next_task(mine, elsewhere), grpc.StatusCode.PERMISSION_DENIED)
    task = next_task(picker(tote, elsewhere), elsewhere)
    refused(lambda: scan(mine, task.task_id, gtin), grpc.StatusCode.PERMISSION_DENIED)
    refused(lambda: short(mine, task.task_id, task.lines[0].line_id, 1),
            grpc.StatusCode.PERMISSION_DENIED)
    refused(lambda: next_task(shop, elsewhere), grpc.StatusCode.PERMISSION_DENIED)
    assert level(admin, elsewhere, sku) == (2, 1, 0)


def scans_of(tote, task_id: str) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    """(scan_id, operator) of a task's stored scans."""
    db = Database(tote.db_url)
    try:
        return db.run_read(lambda s: sorted(
            (r.scan_id, r.operator) for r in s.execute(
                tables.SCANS.select().where(tables.SCANS.c.task_id == task_id))))
    finally:
        db.dispose()


def short_reporter(tote, line_id: str) -> str | None:  # type: ignore[no-untyped-def]
    db = Database(tote.db_url)
    try:
        return db.run_read(lambda s: s.execute(
            tables.PICK_LINES.select().where(tables.PICK_LINES.c.line_id == line_id)).one()
            .short_reported_by)
    finally:
        db.dispose()


def test_each_pick_line_names_its_product_as_the_catalog_has_it(tote, admin, shop, fc):
    sku, gtin = product(admin, fc, 4, "A-02-1")
    other, _ = product(admin, fc, 4, "A-03-1")
    order_id = ready_order(shop, [(sku, 2), (other, 1)])
    p = picker(tote, fc)
    task = next_task(p, fc)
    assert {(ln.sku, ln.name) for ln in task.lines} == {(sku, f"Item {sku}"),
                                                       (other, f"Item {other}")}
    assert scan(p, task.task_id, gtin).line.name == f"Item {sku}"
    line = next(ln for ln in task.lines if ln.sku == other)
    assert short(p, task.task_id, line.line_id, 1).line.name == f"Item {other}"
    assert order_id == line.order_id


def test_the_operator_badge_is_kept_with_each_scan_and_short_pick(tote, admin, shop, fc):
    sku, gtin = product(admin, fc, 5, "A-04-1")
    ready_order(shop, [(sku, 3)])
    p = picker(tote, fc)
    task = next_task(p, fc)
    line_id = task.lines[0].line_id
    first, second = sorted(uuid.uuid4().hex for _ in range(2))
    p.fulfillment.ScanItem(fpb.ScanItemRequest(task_id=task.task_id, barcode=gtin,
                                               scan_id=first, operator_id="BADGE-0042"),
                           metadata=p.metadata)
    scan(p, task.task_id, gtin, second)  # an older handheld sends no badge: stored as NULL
    p.fulfillment.ReportShortPick(fpb.ReportShortPickRequest(
        task_id=task.task_id, line_id=line_id, missing=1, operator_id="BADGE-0042 Ana"),
        metadata=p.metadata)
    assert scans_of(tote, task.task_id) == [(first, "BADGE-0042"), (second, None)]
    assert short_reporter(tote, line_id) == "BADGE-0042 Ana"


@pytest.mark.parametrize("badge", ["B" * 129, "BADGE\n42", "BADGE\x0042"])
def test_an_unusable_operator_badge_is_refused_and_changes_nothing(tote, admin, shop, fc,
                                                                   badge):
    sku, gtin = product(admin, fc, 2, "A-05-1")
    ready_order(shop, [(sku, 2)])
    p = picker(tote, fc)
    task = next_task(p, fc)
    line_id, scan_id = task.lines[0].line_id, uuid.uuid4().hex
    message = refused(lambda: p.fulfillment.ScanItem(fpb.ScanItemRequest(
        task_id=task.task_id, barcode=gtin, scan_id=scan_id, operator_id=badge),
        metadata=p.metadata), grpc.StatusCode.INVALID_ARGUMENT)
    assert "operator_id" in message
    refused(lambda: p.fulfillment.ReportShortPick(fpb.ReportShortPickRequest(
        task_id=task.task_id, line_id=line_id, missing=1, operator_id=badge),
        metadata=p.metadata), grpc.StatusCode.INVALID_ARGUMENT)
    assert scans_of(tote, task.task_id) == []
    assert short_reporter(tote, line_id) is None
    assert level(admin, fc, sku) == (2, 2, 0)
    # 128 printable characters are a badge.
    ok = p.fulfillment.ScanItem(fpb.ScanItemRequest(
        task_id=task.task_id, barcode=gtin, scan_id=scan_id, operator_id="é" * 128),
        metadata=p.metadata)
    assert ok.line.picked == 1


def test_an_fc_that_wants_bin_labels_scanned_says_so_on_its_pick_tasks(tote, admin, shop):
    strict, relaxed = unique("FC"), unique("FC")
    for fc_id, confirm in ((strict, True), (relaxed, False)):
        admin.fulfillment.UpsertFulfillmentCenter(fpb.UpsertFulfillmentCenterRequest(
            fc=pb.FulfillmentCenter(fc_id=fc_id, name=fc_id, latitude=12.97, longitude=77.59,
                                    cutoff_hour=16, daily_capacity=100,
                                    confirm_bin_scan=confirm)), metadata=admin.metadata)
    listed = admin.fulfillment.ListFulfillmentCenters(fpb.ListFulfillmentCentersRequest(),
                                                      metadata=admin.metadata).fcs
    assert {f.fc_id: f.confirm_bin_scan for f in listed if f.fc_id in (strict, relaxed)} == {
        strict: True, relaxed: False}
    sku, _ = product(admin, strict, 2)
    ready_order(shop, [(sku, 1)])
    task = next_task(picker(tote, strict), strict)
    assert task.confirm_bin_scan
    # Turned off again: the next task says so.
    admin.fulfillment.UpsertFulfillmentCenter(fpb.UpsertFulfillmentCenterRequest(
        fc=pb.FulfillmentCenter(fc_id=strict, name=strict, latitude=12.97, longitude=77.59,
                                cutoff_hour=16, daily_capacity=100)), metadata=admin.metadata)
    ready_order(shop, [(sku, 1)])
    assert not next_task(picker(tote, strict), strict).confirm_bin_scan
