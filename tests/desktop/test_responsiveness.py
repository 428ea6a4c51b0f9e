"""The GUI thread never waits on the network, and the live stream resumes after an outage.

Against a real `tote serve --sandbox`: reached through a relay (tests/desktop/relay.py) that
delays the server's answers or cuts the connection, and one whose sandbox gateway answers
slowly (`--sandbox-latency-ms`), so that CancelOrder waits on the void.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from PySide6.QtCore import Qt, QTimer

from core.persistence import migrate
from desktop.client import ConsoleClient
from desktop.controller import CONNECTED, DISCONNECTED, ConsoleController
from desktop.main_window import MainWindow
from tests.desktop.relay import Relay
from tests.desktop.test_orders_view import new_fc, processing_order
from tests.harness import ToteServer, card, ledger, sandbox_card, unique
from tote.v1 import common_pb2

pytestmark = pytest.mark.qt
GATEWAY_LATENCY_MS = 800  # every sandbox call; CancelOrder waits for the void


@pytest.fixture
def holding_relay(tote) -> Iterator[Relay]:  # type: ignore[no-untyped-def]
    relay = Relay(tote.grpc_address)
    yield relay
    relay.close()


@pytest.fixture(scope="module")
def slow_gateway_tote(tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    """A tote serve of its own whose sandbox gateway and carrier answer after 0.8 s."""
    db_url = str(tmp_path_factory.mktemp("slow-db") / "tote.db")
    migrate.upgrade(db_url)
    server = ToteServer(db_url, tmp_path_factory.mktemp("slow-serve"), args=[
        "--sandbox-latency-ms", str(GATEWAY_LATENCY_MS)]).start()
    try:
        yield server
    finally:
        server.terminate()


def ticking() -> tuple[QTimer, list[int]]:
    """A 20 ms timer on the GUI thread; the list grows each time it fires."""
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(len(ticks)))
    timer.start()
    return timer, ticks


def open_console(qtbot, address: str, token: str, settings) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(ConsoleController(ConsoleClient(address, token)), settings)
    qtbot.addWidget(window)
    window.show()
    return window


def test_a_slow_server_does_not_freeze_the_window(
        qtbot, holding_relay, supervisor_token, settings, admin, shop) -> None:  # type: ignore[no-untyped-def]
    relay = holding_relay
    sku = unique("SLOW")
    admin.product(sku)
    admin.receive(new_fc(admin, 13.0), sku, 3)
    order = processing_order(shop, sku)
    window = open_console(qtbot, relay.address, supervisor_token, settings)
    controller = window.controller
    timer, ticks = ticking()
    # Should start() wait on the network, this lets it return (late) instead of hanging.
    unstick = threading.Timer(30, relay.release)
    relay.hold()
    try:
        with qtbot.waitSignal(controller.orders_loaded, timeout=60_000) as loaded:
            unstick.start()
            window.start()  # ListFulfillmentCenters, ListOrders, GetStock, GetThroughput, …
            # Every call went to a worker: start() returned with the answers still held.
            assert relay.holding(), "start() waited for the server's answers"
            assert controller.busy()
            # The window takes typing while the calls are in flight.
            window.tabs.setCurrentWidget(window.orders)
            qtbot.keyClicks(window.orders.search, "slow")
            assert window.orders.search.text() == "slow"
            # The server has answered and the console has not heard: the GUI thread runs its
            # timer all the same.
            qtbot.waitUntil(lambda: relay.held_bytes > 0, timeout=10_000)
            seen = len(ticks)
            qtbot.waitUntil(lambda: len(ticks) >= seen + 3, timeout=10_000)
            assert relay.holding() and not loaded.signal_triggered and controller.busy()
            relay.release()
        assert order.order_id in {o.order_id for o in loaded.args[0]}
        qtbot.waitUntil(lambda: not controller.busy(), timeout=15_000)
        assert controller.state == CONNECTED
    finally:
        unstick.cancel()
        relay.release()
        timer.stop()
        window.close()
        window.controller.client.close()


def test_watch_orders_resumes_after_the_last_event_seen_when_the_link_drops(
        qtbot, tote, supervisor_token, settings, admin, shop) -> None:  # type: ignore[no-untyped-def]
    relay = Relay(tote.grpc_address)
    window = open_console(qtbot, relay.address, supervisor_token, settings)
    controller = window.controller
    seen: list[tuple[str, str]] = []
    states: list[str] = []
    controller.order_event.connect(lambda e: seen.append((e.order_id, e.type)))
    controller.connection_changed.connect(lambda s, _d: states.append(s))
    try:
        window.start()
        qtbot.waitUntil(lambda: controller.state == CONNECTED, timeout=10_000)
        sku = unique("RESUME")
        admin.product(sku)
        admin.receive(new_fc(admin, 13.0), sku, 5)
        before = processing_order(shop, sku)
        qtbot.waitUntil(lambda: (before.order_id, "Order_Created") in seen, timeout=10_000)
        last_before = controller.last_event_id

        relay.down()  # the network goes; the console says so
        qtbot.waitUntil(lambda: DISCONNECTED in states, timeout=10_000)
        assert "Disconnected" in window.connection.text()
        during = processing_order(shop, sku)  # placed while the console cannot hear
        relay.up()
        # Back: the stream resumes after the last event seen, so nothing placed meanwhile is
        # missed and nothing already seen comes twice.
        qtbot.waitUntil(lambda: (during.order_id, "Order_Created") in seen
                        and states[-1] == CONNECTED, timeout=20_000)
        assert seen.count((before.order_id, "Order_Created")) == 1
        assert int(controller.last_event_id) > int(last_before)
        qtbot.waitUntil(lambda: window.orders.model.find(during.order_id) >= 0, timeout=10_000)
        assert "Connected" in window.connection.text()
        qtbot.keyClick(window, Qt.Key.Key_F5)  # and plain calls work again too
        qtbot.waitUntil(lambda: not controller.busy(), timeout=10_000)
    finally:
        window.close()
        window.controller.client.close()
        relay.close()


def test_cancelling_an_order_while_the_gateway_is_slow_keeps_the_window_alive(
        qtbot, slow_gateway_tote, settings) -> None:  # type: ignore[no-untyped-def]
    tote = slow_gateway_tote
    admin, shop = (tote.client(tote.token(role, name))
                   for role, name in (("admin", "ops"), ("storefront", "shop-a")))
    sku = unique("VOID")
    admin.product(sku)
    admin.receive(new_fc(admin, 13.0), sku, 3)
    placed = shop.place([(sku, 1)], card(sandbox_card(tote.sandbox_url)))
    held = shop.wait_status(placed.order_id, {common_pb2.ORDER_STATUS_PROCESSING,
                                              common_pb2.ORDER_STATUS_CANCELLED})
    assert held.status == common_pb2.ORDER_STATUS_PROCESSING, held.cancel_reason
    assert held.payment.state == "authorized"
    window = open_console(qtbot, tote.grpc_address, tote.token("supervisor", "floor-lead"),
                          settings)
    controller, view = window.controller, window.orders
    window.start()
    window.tabs.setCurrentWidget(view)
    timer, ticks = ticking()
    try:
        qtbot.waitUntil(lambda: view.select_order(placed.order_id)
                        and view.detail.cancel_button.isEnabled(), timeout=15_000)
        qtbot.mouseClick(view.detail.cancel_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: getattr(view, "cancel_confirmation", None) is not None
                        and view.cancel_confirmation.isVisible(), timeout=5_000)
        qtbot.keyClicks(view.cancel_confirmation.reason, "duplicate order")
        qtbot.waitUntil(lambda: not controller.busy(), timeout=10_000)
        # The void is done at once but its answer is held for 4 s: CancelOrder is in flight.
        httpx.post(f"{tote.sandbox_url}/v1/sandbox/faults", json={
            "route": "void", "kind": "timeout_after", "delay_ms": 4000}).raise_for_status()
        with qtbot.waitSignal(controller.order_cancelled, timeout=30_000) as cancelled:
            view.cancel_confirmation.confirm_button.click()
            assert controller.busy()
            assert view.detail.cancel_note.text().startswith("Cancelling")
            # The window takes typing while the server waits on the gateway's void.
            qtbot.keyClicks(view.search, "VOID")
            assert view.search.text() == "VOID"
            seen = len(ticks)
            qtbot.waitUntil(lambda: "void" in {e["kind"] for e in ledger(tote.sandbox_url,
                                                                        placed.order_id)},
                            timeout=15_000)
            # The void reached the gateway and its answer has not come back: the GUI thread
            # ran its timer meanwhile and the call was still in flight afterwards.
            qtbot.waitUntil(lambda: len(ticks) >= seen + 3, timeout=10_000)
            assert not cancelled.signal_triggered and controller.busy()
        timer.stop()
        order = cancelled.args[0]
        assert order.status == common_pb2.ORDER_STATUS_CANCELLED
        assert order.payment.state == "voided"
        assert order.cancel_reason == "cancelled by a supervisor: duplicate order"
        # The gateway voided the hold (its ledger), and the console shows the cancelled order.
        kinds = sorted((e["kind"], e["status"]) for e in ledger(tote.sandbox_url,
                                                                placed.order_id))
        assert kinds == [("authorization", "authorized"), ("void", "voided")]
        assert view.detail.title.text() == f"{placed.order_id} — CANCELLED"
        assert view.detail.cancel_note.text() == ""
        assert "voided" in view.detail.payment.text()
        assert window.statusBar().currentMessage() == (
            f"Cancelled {placed.order_id} — payment voided")
    finally:
        timer.stop()
        window.close()
        controller.client.close()
        admin.close()
        shop.close()
