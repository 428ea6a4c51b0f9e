"""The packer against a real `tote serve --sandbox`: what it says when the box is full, when the
box is the wrong size, and counts of one."""

from __future__ import annotations

import re

from terminals.client import ToteClient
from terminals.packer.app import PackerApp
from terminals.printer import Printer
from tests.harness import unique
from tests.integration.test_picking import new_gtin, product, ready_order
from tests.terminals.helpers import text, until
from tote.v1 import common_pb2 as pb


def packer(client: ToteClient, fc: str, folder) -> PackerApp:  # type: ignore[no-untyped-def]
    app = PackerApp(client, fc, Printer(str(folder)))
    app.bells = 0  # type: ignore[attr-defined]

    def bell() -> None:
        app.bells += 1  # type: ignore[attr-defined]

    app.bell = bell  # type: ignore[method-assign]
    return app


def picked(client: ToteClient, fc: str, gtins: list[str]):  # type: ignore[no-untyped-def]
    """The FC's next pick task, every unit scanned: its tote is ready to pack."""
    task = client.next_task(fc)
    assert task is not None
    for gtin in gtins:
        reply = client.scan(task.task_id, gtin, unique("scan"), "OP7")
    assert reply.task_complete
    return task


async def sign_in_packer(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*"OP9", "enter")
    await until(pilot, lambda: text(pilot.app, "#step") == "SCAN TOTE OR ORDER")



def one_unit_picked(admin, shop, fc: str,  # type: ignore[no-untyped-def]
                    client: ToteClient) -> tuple[tuple[str, str], str]:
    """((SKU, GTIN), order id) of a one-unit order whose tote is picked, ready to pack."""
    soap = product(admin, fc, 2)
    order_id = ready_order(shop, [(soap[0], 1)])
    picked(client, fc, [soap[1]])
    return soap, order_id


async def open_order(pilot, order_id: str) -> None:  # type: ignore[no-untyped-def]
    """Sign in at the packer and scan the order's id: the first unit is asked for."""
    await sign_in_packer(pilot)
    await pilot.press(*order_id, "enter")
    await until(pilot, lambda: text(pilot.app, "#step") == "SCAN EACH UNIT INTO THE BOX")

async def test_a_unit_scanned_into_a_full_box_is_one_too_many_not_a_weight(
        tote, admin, shop, fc, picker_client, tmp_path):
    soap, order_id = one_unit_picked(admin, shop, fc, picker_client)
    app = packer(picker_client, fc, tmp_path)
    async with app.run_test(size=(40, 16)) as pilot:
        await open_order(pilot, order_id)
        assert text(app, "#feedback") == f"1 unit to pack for {order_id}"
        assert text(app, "#order") == f"{order_id} · 0/1 unit"
        await pilot.press(*soap[1], "enter")
        assert text(app, "#step").startswith("WEIGHT")
        assert "the 1 unit is in the box: weigh it" in text(app, "#feedback")
        await pilot.press(*soap[1], "enter")  # the same unit again, as a scanner types it
        assert app.bells == 1 and text(app, "#step").startswith("WEIGHT")
        assert text(app, "#feedback").startswith(
            f"ONE TOO MANY: the 1 unit is in the box already; take Item {soap[0]} out")
        other = new_gtin()
        await pilot.press(*other, "enter")  # a unit of something else
        assert app.bells == 2 and "ONE TOO MANY" in text(app, "#feedback")
        assert text(app, "#step").startswith("WEIGHT")
        await pilot.press(*"0.6 kg", "enter")  # 350 g of soap in box M (250 g), in kilograms
        assert text(app, "#feedback") == "600 g · box S, M or L, then Enter"
        await pilot.press(*soap[1], "enter")  # scanned where the box is asked for
        assert app.bells == 3 and "ONE TOO MANY" in text(app, "#feedback")
        assert text(app, "#feedback").endswith("next: type the box: S, M or L")
        assert text(app, "#step") == "BOX (S / M / L)"
        await pilot.press("enter")  # M, as offered
        await until(pilot, lambda: "PACKED" in text(app, "#feedback"), 60)
        assert f"PACKED {order_id}" in text(app, "#feedback")
    assert shop.get(order_id).status == pb.ORDER_STATUS_PACKED


async def test_a_box_of_the_wrong_size_is_named_with_its_tare_and_the_box_that_fits(
        tote, admin, shop, fc, picker_client, tmp_path):
    soap, order_id = one_unit_picked(admin, shop, fc, picker_client)
    app = packer(picker_client, fc, tmp_path)
    async with app.run_test(size=(40, 16)) as pilot:
        await open_order(pilot, order_id)
        # 350 g of soap packed in box S (150 g), but box M (250 g) offered and taken.
        await pilot.press(*soap[1], "enter", *"500", "enter", "enter")
        await until(pilot, lambda: "server refused" in text(app, "#feedback"), 60)
        shown = text(app, "#feedback")
        assert "500 g measured but 600 g are expected = 350 g of items + box M 250 g" in shown
        assert "500 g fits box S 150 g: if it is in S, choose S" in shown
        assert text(app, "#step").startswith("WEIGHT")
        await pilot.press(*"500", "enter", "S", "enter")  # the box it is in
        await until(pilot, lambda: "PACKED" in text(app, "#feedback"), 60)
    assert shop.get(order_id).status == pb.ORDER_STATUS_PACKED


async def test_the_picker_names_the_tote_by_its_short_code_and_the_packer_scans_it(
        tote, admin, shop, fc, picker_client, tmp_path):
    from terminals.picker.app import PickerApp
    from tests.terminals.helpers import sign_in

    soap = product(admin, fc, 2)
    order_id = ready_order(shop, [(soap[0], 1)])
    picker = PickerApp(picker_client, fc)
    async with picker.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        code = picker.screen.pick_task.tote_code
        assert re.fullmatch(r"T-\d{4,}", code), code
        assert text(picker, "#feedback") == f"tote {code}: new task for {order_id}"
        await pilot.press(*soap[1], "enter")
        await until(pilot, lambda: "task complete" in text(picker, "#feedback"))
        assert text(picker, "#feedback").startswith(
            f"task complete: take tote {code} to packing ({order_id})")
    app = packer(picker_client, fc, tmp_path)
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in_packer(pilot)
        await pilot.press(*code.lower().replace("-", ""), "enter")  # typed as "t0042"
        await until(pilot, lambda: text(app, "#step") == "SCAN EACH UNIT INTO THE BOX")
        assert text(app, "#feedback") == f"1 unit to pack for {order_id}"
        await pilot.press(*soap[1], "enter", *"600", "enter", "enter")
        await until(pilot, lambda: "PACKED" in text(app, "#feedback"), 60)
    assert shop.get(order_id).status == pb.ORDER_STATUS_PACKED
