"""The picker and packer against a real `tote serve --sandbox`: typed scans hard-lock exactly
what was scanned, and a packed order's label lands in the station's folder.

Each test works in its own FC, so pick queues never mix.
"""

from __future__ import annotations

from terminals.client import ToteClient
from terminals.packer.app import PackerApp
from terminals.picker.app import PickerApp
from terminals.printer import Printer
from tests.harness import unique
from tests.integration.test_picking import (
    level,
    new_gtin,
    product,
    ready_order,
    scans_of,
    short_reporter,
)
from tests.terminals.helpers import sign_in, text, until
from tote.v1 import common_pb2 as pb
from tote.v1 import fulfillment_pb2 as fpb


async def test_a_full_pick_hard_locks_each_scanned_unit_once(tote, admin, shop, fc,
                                                             picker_client):
    soap = product(admin, fc, 5, "A-02-1")
    tea = product(admin, fc, 5, "B-01-3")
    order_id = ready_order(shop, [(soap[0], 2), (tea[0], 1)])
    app = PickerApp(picker_client, fc)
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        assert text(app, "#bin") == "BIN A-02-1"
        assert text(app, "#name") == f"Item {soap[0]}"  # the catalog's name
        task_id = app.screen.pick_task.task_id
        wrong = new_gtin()
        await pilot.press(*wrong, "enter")
        assert "WRONG: expected" in text(app, "#feedback") and wrong in text(app, "#feedback")
        await pilot.press(*soap[1], "enter")
        await until(pilot, lambda: app.screen.waiting == 0)
        assert level(admin, fc, soap[0]) == (5, 1, 1)
        await pilot.press(*soap[1], "enter")
        assert text(app, "#bin") == "BIN B-01-3"
        await pilot.press(*tea[1], "enter")
        await until(pilot, lambda: "task complete" in text(app, "#feedback"))
        assert order_id in text(app, "#feedback")
        await until(pilot, lambda: "no work waiting" in text(app, "#feedback"))
    assert level(admin, fc, soap[0]) == (5, 0, 2)
    assert level(admin, fc, tea[0]) == (5, 0, 1)
    # The badge signed in with travels with every scan, for the audit trail.
    assert [operator for _, operator in scans_of(tote, task_id)] == ["OP7"] * 3


async def test_a_scan_retried_after_a_lost_reply_counts_once(tote, admin, shop, fc,
                                                            picker_client):
    sku, gtin = product(admin, fc, 4)
    ready_order(shop, [(sku, 2)])
    task = picker_client.next_task(fc)
    assert task is not None
    # The reply to the first send was lost; the terminal sends the same scan id again.
    first = picker_client.scan(task.task_id, gtin, "scan-lost-reply")
    again = picker_client.scan(task.task_id, gtin, "scan-lost-reply")
    assert first == again and again.line.picked == 1
    assert level(admin, fc, sku) == (4, 1, 1)


async def test_a_short_pick_reports_the_missing_units_and_completes_the_task(
        tote, admin, shop, fc, picker_client):
    sku, gtin = product(admin, fc, 3, "C-01-1")
    ready_order(shop, [(sku, 3)])
    app = PickerApp(picker_client, fc)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "OP-SHORT")
        line_id = app.screen.pick_task.lines[0].line_id
        await pilot.press(*gtin, "enter")
        await pilot.press("f2")
        await until(pilot, lambda: app.screen.query("#missing"))
        await pilot.press("backspace", "2", "enter", "enter")
        await until(pilot, lambda: "task complete" in text(app, "#feedback"))
    # The two units not on the shelf leave the stock; the picked one stays hard-locked.
    assert level(admin, fc, sku) == (1, 0, 1)
    assert picker_client.next_task(fc) is None
    assert short_reporter(tote, line_id) == "OP-SHORT"


async def test_where_the_fc_wants_bin_labels_scanned_a_unit_counts_only_after_its_bin(
        tote, admin, shop):
    fc = unique("FC")
    admin.fulfillment.UpsertFulfillmentCenter(fpb.UpsertFulfillmentCenterRequest(
        fc=pb.FulfillmentCenter(fc_id=fc, name=fc, latitude=12.97, longitude=77.59,
                                cutoff_hour=16, daily_capacity=1000, confirm_bin_scan=True)),
        metadata=admin.metadata)
    client = ToteClient(tote.grpc_address, tote.token("picker", unique("picker"), fc))
    soap = product(admin, fc, 3, "A-03-2")
    tea = product(admin, fc, 3, "B-01-1")
    ready_order(shop, [(soap[0], 1), (tea[0], 1)])
    app = PickerApp(client, fc)
    try:
        async with app.run_test(size=(40, 16)) as pilot:
            await sign_in(pilot)
            assert text(app, "#bin") == "SCAN BIN LABEL A-03-2"
            await pilot.press(*soap[1], "enter")
            assert "scan the bin label of A-03-2 first" in text(app, "#feedback")
            await pilot.press(*"B-01-1", "enter")
            assert text(app, "#feedback") == "WRONG BIN: expected bin A-03-2, scanned B-01-1"
            assert level(admin, fc, soap[0]) == (3, 1, 0)  # nothing reached the server
            await pilot.press(*"a-03-2", "enter", *soap[1], "enter")
            # Scans reach the server in order: this one's arrival first shows the refused
            # scans never did.
            await until(pilot, lambda: level(admin, fc, soap[0]) != (3, 1, 0))
            assert level(admin, fc, soap[0]) == (3, 0, 1)
            await pilot.press(*"B-01-1", "enter", *tea[1], "enter")
            await until(pilot, lambda: "task complete" in text(app, "#feedback"))
    finally:
        client.close()
    assert level(admin, fc, soap[0]) == (3, 0, 1)
    assert level(admin, fc, tea[0]) == (3, 0, 1)


async def test_a_picked_tote_packed_at_the_station_gets_its_label_in_the_folder(
        tote, admin, shop, fc, picker_client, tmp_path):
    soap = product(admin, fc, 2, "A-01-1")
    tea = product(admin, fc, 2, "A-02-1")
    order_id = ready_order(shop, [(soap[0], 1), (tea[0], 1)])
    task = picker_client.next_task(fc)
    assert task is not None
    picker_client.scan(task.task_id, soap[1], unique("scan"), "OP7")
    assert picker_client.scan(task.task_id, tea[1], unique("scan"), "OP7").task_complete
    app = PackerApp(picker_client, fc, Printer(str(tmp_path / "labels")))
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in_packer(pilot)
        await pilot.press(*task.task_id, "enter")  # the tote's label
        await until(pilot, lambda: text(app, "#step") == "SCAN EACH UNIT INTO THE BOX")
        shown = text(app, "#lines")
        assert f"0/1 {soap[1]} Item {soap[0]}" in shown and f"0/1 {tea[1]} Item {tea[0]}" in shown
        await pilot.press(*soap[1], "enter", *soap[1], "enter")  # the second soap is one too many
        assert "TOO MANY" in text(app, "#feedback")
        await pilot.press(*tea[1], "enter")
        # Two units of 350 g: the catalog weight without the box.
        assert text(app, "#step") == "WEIGHT (g) · items 700 g + box"
        await pilot.press(*"100", "enter", "enter")
        await until(pilot, lambda: "server refused" in text(app, "#feedback"), 60)
        assert text(app, "#step").startswith("WEIGHT")
        await pilot.press(*"950", "enter", "enter")  # two units of 350 g and box M's 250 g
        await until(pilot, lambda: "PACKED" in text(app, "#feedback"), 60)
        shown = text(app, "#feedback")
    order = shop.get(order_id)
    assert order.status == pb.ORDER_STATUS_PACKED and order.tracking_number
    assert f"PACKED {order_id} · {order.carrier} {order.tracking_number}" in shown
    label = tmp_path / "labels" / f"{order.tracking_number}.pdf"
    assert label.read_bytes().startswith(b"%PDF")
    assert level(admin, fc, soap[0])[2] == 1 and level(admin, fc, tea[0])[2] == 1


async def test_an_order_scanned_at_the_station_before_it_is_picked_is_not_packed(
        tote, admin, shop, fc, picker_client, tmp_path):
    sku, _ = product(admin, fc, 2)
    order_id = ready_order(shop, [(sku, 1)])
    app = PackerApp(picker_client, fc, Printer(str(tmp_path / "labels")))
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in_packer(pilot)
        await pilot.press(*order_id, "enter")
        await until(pilot, lambda: "nothing to pack" in text(app, "#feedback"))
        assert text(app, "#step") == "SCAN TOTE OR ORDER"
    assert shop.get(order_id).status == pb.ORDER_STATUS_PROCESSING


async def sign_in_packer(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*"OP9", "enter")
    await until(pilot, lambda: text(pilot.app, "#step") == "SCAN TOTE OR ORDER")
