"""The picker, the packer and the storefront example given two replicas' addresses
(`--server A,B`): one replica is SIGKILLed mid-use and they carry on against the other."""

from __future__ import annotations

import subprocess
import sys

import pytest

from terminals.client import ToteClient
from terminals.packer.app import PackerApp
from terminals.picker.app import PickerApp
from terminals.printer import Printer
from tests.harness import ROOT, unique
from tests.integration.test_picking import level, product, ready_order
from tests.replicas import Replicas, replicas  # noqa: F401  (a fixture)
from tests.terminals.helpers import sign_in, text, until
from tests.terminals.test_packer_live import sign_in_packer
from tote.v1 import common_pb2 as pb

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def fc_of(r: Replicas) -> str:
    fc_id = unique("FC")
    r.admin.fc(fc_id)
    return fc_id


async def test_the_picker_scans_on_after_the_replica_it_used_is_killed(replicas):  # noqa: F811
    fc = fc_of(replicas)
    sku, gtin = product(replicas.admin, fc, 4)
    ready_order(replicas.shop, [(sku, 2)])
    client = ToteClient(replicas.both, replicas.a.token("picker", "p1", fc))
    try:
        app = PickerApp(client, fc)
        async with app.run_test(size=(40, 16)) as pilot:
            await sign_in(pilot)
            await pilot.press(*gtin, "enter")
            await until(pilot, lambda: app.screen.waiting == 0)
            replicas.a.kill()  # SIGKILL: no goodbye to the handheld
            await pilot.press(*gtin, "enter")
            await until(pilot, lambda: "task complete" in text(app, "#feedback"))
        assert level(replicas.admin, fc, sku) == (4, 0, 2)
    finally:
        client.close()


async def test_the_packer_packs_on_after_a_replica_is_killed(replicas, tmp_path):  # noqa: F811
    fc = fc_of(replicas)
    sku, gtin = product(replicas.admin, fc, 2)
    order_id = ready_order(replicas.shop, [(sku, 1)])
    client = ToteClient(replicas.both, replicas.a.token("picker", "p2", fc))
    try:
        task = client.next_task(fc)
        assert task is not None
        assert client.scan(task.task_id, gtin, "scan-1").task_complete
        app = PackerApp(client, fc, Printer(str(tmp_path / "labels")))
        async with app.run_test(size=(40, 16)) as pilot:
            await sign_in_packer(pilot)
            await pilot.press(*task.task_id, "enter")  # the tote's label
            await until(pilot, lambda: text(app, "#step") == "SCAN EACH UNIT INTO THE BOX")
            replicas.a.kill()  # mid-pack: the pack list came from the pair, A is gone now
            await pilot.press(*gtin, "enter")
            await until(pilot, lambda: text(app, "#step").startswith("WEIGHT"))
            await pilot.press(*"600", "enter", "enter")  # 350 g and the box
            await until(pilot, lambda: "PACKED" in text(app, "#feedback"), 60)
        order = replicas.admin.get(order_id)
        assert order.status == pb.ORDER_STATUS_PACKED and order.tracking_number
    finally:
        client.close()


def test_the_storefront_example_places_orders_with_a_replica_gone(replicas, tmp_path):  # noqa: F811
    fc = fc_of(replicas)
    sku, _ = product(replicas.admin, fc, 10)
    token = tmp_path / "shop.token"
    token.write_text(replicas.a.token("storefront", "shop-x"))

    def storefront() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "examples/storefront.py", "--server", replicas.both,
             "--token-file", str(token), "--sku", sku, "--orders", "3"],
            cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert storefront().returncode == 0
    replicas.a.kill()
    after = storefront()  # the dead replica first in the list
    assert after.returncode == 0, after.stderr
    assert len(after.stdout.split("\n")[:-1]) == 3
