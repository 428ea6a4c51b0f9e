"""Wi-Fi dead spots: scans made while tote is down wait in the handheld's SQLite outbox, survive
a restart of the app, and reach the server exactly once when it is back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from terminals.client import ToteClient
from terminals.outbox import Outbox
from terminals.picker.app import PickerApp
from tests.harness import ToteServer, free_port, unique
from tests.integration.test_picking import level, product, ready_order, scans_of
from tests.terminals.helpers import sign_in, text, until


@pytest.fixture(scope="module")
def tote(db_url, tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    """On a fixed port, so the handheld finds it again after a restart."""
    server = ToteServer(db_url, tmp_path_factory.mktemp("serve"), args=[
        "--cod-limit-minor", "2000000", "--listen", f"127.0.0.1:{free_port()}"]).start()
    try:
        yield server
    finally:
        server.terminate()


async def test_five_offline_scans_survive_a_restart_and_count_once(tote, admin, shop, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setattr("terminals.picker.screens.RETRY_S", 0.1)
    fc = unique("FC")
    admin.fc(fc)
    sku, gtin = product(admin, fc, 5)
    ready_order(shop, [(sku, 5)])
    token, path = tote.token("picker", unique("picker"), fc), str(tmp_path / "outbox.db")

    client, outbox = ToteClient(tote.grpc_address, token, timeout_s=2), Outbox(path)
    app = PickerApp(client, fc, outbox=outbox)
    async with app.run_test(size=(40, 16)) as pilot:
        await sign_in(pilot)
        assert text(app, "#qty") == "take 5 of 5"
        task_id = app.screen.pick_task.task_id
        tote.terminate()
        for _ in range(5):
            await pilot.press(*gtin, "enter")
        # Each scan answered at once from the task in hand, with no server to ask.
        assert text(app, "#feedback") == f"✓ Item {sku} · 0 left on this line"
        await until(pilot, lambda: "offline — 5 scans waiting" in text(app, "#title"))
    # The app is gone (as if killed); its outbox file is all that is left.
    client.close()
    outbox.close()

    tote.start()
    client, outbox = ToteClient(tote.grpc_address, token), Outbox(path)
    app = PickerApp(client, fc, outbox=outbox)
    try:
        async with app.run_test(size=(40, 16)) as pilot:
            await pilot.press(*"OP8", "enter")  # someone else picks up the handheld
            await until(pilot, lambda: "task complete" in text(app, "#feedback"), 60)
            assert outbox.count() == 0 and outbox.held() is None
    finally:
        client.close()
        outbox.close()
    assert level(admin, fc, sku) == (5, 0, 5)
    # Each queued scan kept the badge of whoever scanned it, not of who signed in later.
    assert [operator for _, operator in scans_of(tote, task_id)] == ["OP7"] * 5
