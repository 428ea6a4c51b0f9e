"""The picker against a real `tote serve --sandbox`: typed scans hard-lock exactly what was scanned.

Each test works in its own FC, so pick queues never mix.
"""

from __future__ import annotations

import pytest

from terminals.client import ToteClient
from terminals.picker.app import PickerApp
from tests.harness import unique
from tests.integration.test_picking import level, new_gtin, product, ready_order
from tests.terminals.helpers import sign_in, text, until


@pytest.fixture
def fc(admin) -> str:  # type: ignore[no-untyped-def]
    fc_id = unique("FC")
    admin.fc(fc_id)
    return fc_id


@pytest.fixture
def picker_client(tote, fc):  # type: ignore[no-untyped-def]
    client = ToteClient(tote.grpc_address, tote.token("picker", unique("picker"), fc))
    yield client
    client.close()


async def test_a_full_pick_hard_locks_each_scanned_unit_once(tote, admin, shop, fc,
                                                             picker_client):
    soap = product(admin, fc, 5, "A-02-1")
    tea = product(admin, fc, 5, "B-01-3")
    order_id = ready_order(shop, [(soap[0], 2), (tea[0], 1)])
    app = PickerApp(picker_client, fc)
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        assert text(app, "#bin") == "BIN A-02-1"
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
        await sign_in(pilot)
        await pilot.press(*gtin, "enter")
        await pilot.press("f2")
        await until(pilot, lambda: app.screen.query("#missing"))
        await pilot.press("backspace", "2", "enter", "enter")
        await until(pilot, lambda: "task complete" in text(app, "#feedback"))
    # The two units not on the shelf leave the stock; the picked one stays hard-locked.
    assert level(admin, fc, sku) == (1, 0, 1)
    assert picker_client.next_task(fc) is None
