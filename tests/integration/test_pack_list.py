"""GetPackList against a real tote: a tote's parcels, an order's, one shipment's, with the units
picked into the tote, their names and their catalog weight; scoped to a handheld's FC."""

from __future__ import annotations

import grpc

from tests.harness import Client, unique
from tests.integration.test_picking import (
    new_gtin,
    next_task,
    picker,
    ready_order,
    refused,
    scan,
    short,
    stock_at,
)
from tote.v1 import fulfillment_pb2 as fpb


def item(admin: Client, fc_id: str, quantity: int, bin_: str, weight: int) -> tuple[str, str]:
    sku, gtin = unique("SKU"), new_gtin()
    admin.product(sku, price_minor=10_000, weight_grams=weight, gtin=gtin)
    stock_at(admin, fc_id, sku, quantity, bin_)
    return sku, gtin


def pack_lists(client: Client, **which: str) -> list[fpb.PackList]:
    return list(client.fulfillment.GetPackList(fpb.GetPackListRequest(**which),
                                               metadata=client.metadata).pack_lists)


def summary(pl: fpb.PackList) -> tuple:  # type: ignore[type-arg]
    return (pl.order_id, pl.fc_id, pl.status, pl.expected_weight_grams,
            [(ln.sku, ln.name, ln.quantity, ln.picked) for ln in pl.lines])


def test_a_tote_of_two_orders_lists_one_parcel_each_with_the_units_picked_into_it(
        tote, admin, shop, fc):
    mug, mug_gtin = item(admin, fc, 10, "A-01-1", 350)
    lamp, _ = item(admin, fc, 10, "B-01-1", 1200)
    first = ready_order(shop, [(mug, 2), (lamp, 1)])
    second = ready_order(shop, [(mug, 1)])
    p = picker(tote, fc)
    task = next_task(p, fc)
    assert {ln.order_id for ln in task.lines} == {first, second}
    for _ in range(3):
        scan(p, task.task_id, mug_gtin)

    in_tote = pack_lists(p, task_id=task.task_id)
    # The lamp is not picked yet: it is not in the tote, nor in the weight.
    assert sorted(summary(pl) for pl in in_tote) == sorted([
        (first, fc, "picking", 700, [(mug, f"Item {mug}", 2, 2)]),
        (second, fc, "picked", 350, [(mug, f"Item {mug}", 1, 1)])])
    by_order = {pl.order_id: pl for pl in in_tote}
    assert pack_lists(p, order_id=first) == [by_order[first]]
    assert pack_lists(p, shipment_id=by_order[second].shipment_id) == [by_order[second]]
    ops = tote.client(tote.token("supervisor", "ops"))
    assert pack_lists(ops, order_id=second) == [by_order[second]]


def test_a_handheld_sees_the_parcels_of_its_own_fc_only(tote, admin, shop, fc):
    other = unique("FC")
    admin.fc(other, lat=28.61, lon=77.21)  # far from the customer: routing prefers `fc`
    sku, gtin = item(admin, fc, 3, "C-01-1", 500)
    stock_at(admin, other, sku, 3, "D-04-2")
    order_id = ready_order(shop, [(sku, 2)])
    here, there = picker(tote, fc), picker(tote, other)
    task = next_task(here, fc)
    scan(here, task.task_id, gtin)
    short(here, task.task_id, task.lines[0].line_id, 1)  # the other unit re-routed to `other`
    rerouted = next_task(there, other)
    scan(there, rerouted.task_id, gtin)

    ops = tote.client(tote.token("supervisor", "ops"))
    assert [(pl.fc_id, pl.expected_weight_grams) for pl in pack_lists(ops, order_id=order_id)
            ] == [(fc, 500), (other, 500)]
    assert [pl.fc_id for pl in pack_lists(here, order_id=order_id)] == [fc]
    assert [pl.fc_id for pl in pack_lists(there, order_id=order_id)] == [other]
    theirs = pack_lists(ops, task_id=rerouted.task_id)[0]
    refused(lambda: pack_lists(here, task_id=rerouted.task_id),
            grpc.StatusCode.PERMISSION_DENIED)
    refused(lambda: pack_lists(here, shipment_id=theirs.shipment_id),
            grpc.StatusCode.PERMISSION_DENIED)
    third = unique("FC")
    admin.fc(third)
    elsewhere = picker(tote, third)
    refused(lambda: pack_lists(elsewhere, order_id=order_id), grpc.StatusCode.PERMISSION_DENIED)


def test_a_pack_list_needs_exactly_one_known_id(tote, admin, shop, fc):
    sku, gtin = item(admin, fc, 2, "A-02-1", 100)
    order_id = ready_order(shop, [(sku, 1)])
    p = picker(tote, fc)
    task = next_task(p, fc)
    for which in ({}, {"task_id": task.task_id, "order_id": order_id}):
        message = refused(lambda: pack_lists(p, **which),  # noqa: B023
                          grpc.StatusCode.INVALID_ARGUMENT)
        assert "exactly one" in message
    for which in ({"task_id": "pt_NOPE"}, {"order_id": "ord_NOPE"},
                  {"shipment_id": "shp_NOPE"}):
        refused(lambda: pack_lists(p, **which), grpc.StatusCode.NOT_FOUND)  # noqa: B023
    # Nothing picked yet: the parcel is listed, with nothing in it.
    (empty,) = pack_lists(p, order_id=order_id)
    assert (empty.status, list(empty.lines), empty.expected_weight_grams) == ("picking", [], 0)
    refused(lambda: pack_lists(shop, order_id=order_id), grpc.StatusCode.PERMISSION_DENIED)
