"""What the customer was sent, in the console, against a real tote serve with a real SMTP server
(aiosmtpd): the order's messages beside its timeline, the dead letters and their Resend, and a
token that may not see them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from desktop.client import ConsoleClient
from desktop.controller import ConsoleController
from desktop.dead_letters_view import DeadLettersView
from desktop.notification_models import (
    DeadLettersModel,
    TimelineModel,
    interleave,
    mask_recipient,
    status_text,
)
from tests.desktop.conftest import ARTIFACTS
from tests.harness import unique
from tests.integration import test_notifications as notifying
from tests.integration.test_notifications import (
    confirmed_order,
    contact,
    fan_out,
    stored,
    wait_until,
)
from tote.v1 import common_pb2, notifications_pb2

pytestmark = pytest.mark.qt

# The notifications tests' module fixtures: a real SMTP server (aiosmtpd) and a `tote serve`
# sending to it (retry schedule 200ms,200ms: a refused message is dead after three attempts),
# in place of the console's plain server.
inbox, tote, admin, shop = notifying.inbox, notifying.tote, notifying.admin, notifying.shop

Message = notifications_pb2.NotificationMessage


def shot(widget, tmp_path: Path, name: str) -> Path:  # type: ignore[no-untyped-def]
    """The widget's picture in the test's tmp dir (and with the other views' screenshots)."""
    path = tmp_path / f"{name}.png"
    assert widget.grab().save(str(path))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, ARTIFACTS / path.name)
    return path


def message(**kw) -> Message:  # type: ignore[no-untyped-def]
    base = dict(message_id=unique("msg"), order_id="ORD-1", event_id="evt-1",
                event_type="Order_Shipped", channel="email", recipient="asha@example.com",
                status="sent", attempts=1, subject="Your order ORD-1 has shipped",
                created_at=Timestamp(seconds=1_790_000_000),
                sent_at=Timestamp(seconds=1_790_000_005))
    return Message(**{**base, **kw})


# -- the models (no server) ----------------------------------------------------------------------

def test_recipients_are_masked_enough_to_confirm_not_to_copy() -> None:
    assert mask_recipient("asha@example.com") == "a****@example.com"
    assert mask_recipient("+919876543210") == "+91******3210"
    assert mask_recipient("+14155550123") == "+14*****0123"
    assert mask_recipient("12345") == "***45"


def test_statuses_say_the_attempts() -> None:
    assert status_text(message(status="queued", attempts=0)) == "queued"
    assert status_text(message(status="queued", attempts=2)) == "retrying (2 attempts failed)"
    assert status_text(message(status="dead", attempts=3)) == "dead after 3 attempts"
    assert status_text(message(status="sent", attempts=2)) == "sent (on attempt 2)"
    assert status_text(message(status="skipped", attempts=0)) == "skipped (customer opted out)"


def event(event_id: str, type_: str, seconds: int) -> common_pb2.OrderEvent:
    return common_pb2.OrderEvent(event_id=event_id, type=type_,
                                 status=common_pb2.ORDER_STATUS_PROCESSING,
                                 occurred_at=Timestamp(seconds=seconds))


def test_each_message_follows_the_event_it_tells_about() -> None:
    ready, assigned = (event("e1", "Order_Ready_for_Fulfillment", 1),
                       event("e2", "Order_Assigned", 2))
    email, sms = message(event_id="e1"), message(event_id="e1", channel="sms")
    later = message(event_id="e9")  # its event is not on the timeline yet
    assert interleave([ready, assigned], [email, sms, later]) == [ready, email, sms, assigned,
                                                                  later]


def test_the_message_models_pass_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    timeline = TimelineModel()
    timeline.set_rows([
        event("evt-1", "Order_Shipped", 1_790_000_000), message(),
        message(channel="sms", recipient="+919876543210", status="queued", attempts=1,
                last_error="HTTP 503", sent_at=None, due_at=Timestamp(seconds=1_790_000_060))])
    qtmodeltester.check(timeline)
    assert [timeline.index(1, c).data() for c in range(len(TimelineModel.HEADERS))] == [
        "2026-09-21 14:13:25", "↳ Email to customer", "sent",
        "Shipped to a****@example.com: Your order ORD-1 has shipped"]
    assert timeline.index(2, TimelineModel.COL_STATUS).data() == "retrying (1 attempt failed)"
    assert timeline.index(2, TimelineModel.COL_DETAIL).data() == (
        "Shipped to +91******3210: HTTP 503 — next try 2026-09-21 14:14:20")
    assert timeline.index(0, TimelineModel.COL_TYPE).data() == "Order_Shipped"
    assert len(timeline.messages()) == 2
    dead = DeadLettersModel()
    letter = message(status="dead", attempts=3, last_error="451 4.3.0 try again later")
    dead.set_rows([letter])
    qtmodeltester.check(dead)
    assert dead.index(0, DeadLettersModel.COL_WHY).data() == "451 4.3.0 try again later"
    assert dead.resendable(letter)
    dead.mark_resent(letter.message_id)
    assert dead.index(0, DeadLettersModel.COL_STATUS).data() == "queued again (resent)"
    assert dead.index(0, DeadLettersModel.COL_ATTEMPTS).data() == "3"  # as it died
    assert not dead.resendable(letter)
    dead.set_rows([letter])  # listed again: what the server says now
    assert dead.resendable(letter)


# -- against tote serve --------------------------------------------------------------------------

@pytest.fixture
def second_desk(tote) -> Iterator[DeadLettersView]:  # type: ignore[no-untyped-def]
    """Another supervisor's dead letters, on a console of their own."""
    client = ConsoleClient(tote.grpc_address, tote.token("supervisor", "second-desk"))
    controller = ConsoleController(client)
    view = DeadLettersView(controller)
    yield view
    controller.stop()
    client.close()


def test_the_order_shows_what_was_sent_to_the_customer(qtbot, console, tote, admin, shop,
                                                        tmp_path) -> None:  # type: ignore[no-untyped-def]
    address = f"{unique('asha')}@example.in".lower()
    order_id = confirmed_order(admin, shop, contact(email=address, phone="+919800003210",
                                                    locale="en-IN"))
    fan_out(tote, order_id)
    wait_until(lambda: all(r.status == "sent" for r in stored(tote, order_id)))

    view = console.orders
    console.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.select_order(order_id), timeout=15_000)
    detail = view.detail
    timeline = detail.events
    qtbot.waitUntil(lambda: len(timeline.messages()) == 2 and "Order_Assigned" in [
        r.type for r in timeline.rows() if not isinstance(r, Message)], timeout=15_000)
    rows = [[timeline.index(r, c).data() for c in range(len(TimelineModel.HEADERS))]
            for r in range(timeline.rowCount())]
    types = [row[TimelineModel.COL_TYPE] for row in rows]
    # Under the event they tell about, before the order's next event.
    at = types.index("Order_Ready_for_Fulfillment")
    assert sorted(types[at + 1:at + 3]) == ["↳ Email to customer", "↳ SMS to customer"]
    assert types[at + 3:] == ["Order_Assigned"]
    email = rows[at + 1] if types[at + 1].startswith("↳ Email") else rows[at + 2]
    sms = rows[at + 2] if email is rows[at + 1] else rows[at + 1]
    assert email[TimelineModel.COL_STATUS] == sms[TimelineModel.COL_STATUS] == "sent"
    assert email[TimelineModel.COL_DETAIL] == (
        f"Order confirmed to {address[0]}****@example.in: Your order {order_id} is confirmed")
    assert sms[TimelineModel.COL_DETAIL].startswith("Order confirmed to +91******3210: ")
    assert detail.timeline_title.text() == "Event timeline · customer messages: 2 sent"
    shot(console, tmp_path, "order_messages_sent")


def test_a_dead_letter_is_shown_resent_once_and_a_second_resend_shows_the_refusal(
        qtbot, console, second_desk, tote, admin, shop, inbox, tmp_path) -> None:  # type: ignore[no-untyped-def]
    box, _ = inbox
    address = f"{unique('late')}@example.in".lower()
    box.refusing = True
    try:
        order_id = confirmed_order(admin, shop, contact(email=address))
        fan_out(tote, order_id)
        (dead,) = wait_until(lambda: [r for r in stored(tote, order_id) if r.status == "dead"])
    finally:
        box.refusing = False

    # The order's timeline says the customer was not told, and why.
    view = console.orders
    console.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.select_order(order_id), timeout=15_000)
    detail = view.detail
    qtbot.waitUntil(lambda: len(detail.events.messages()) == 1, timeout=15_000)
    row = detail.events.find(dead.message_id)
    assert detail.events.index(row, TimelineModel.COL_STATUS).data() == "dead after 3 attempts"
    assert "451" in detail.events.index(row, TimelineModel.COL_DETAIL).data()
    assert detail.timeline_title.text() == (
        "Event timeline · customer messages: 1 dead (see Dead letters)")
    shot(console, tmp_path, "order_message_dead")

    # Both supervisors list it; the first resends it.
    letters = console.dead_letters
    console.tabs.setCurrentWidget(letters)
    console.refresh()
    second_desk.load()
    for desk in (letters, second_desk):
        qtbot.waitUntil(lambda d=desk: d.select_message(dead.message_id), timeout=15_000)
    row = letters.model.find(dead.message_id)
    assert letters.model.index(row, DeadLettersModel.COL_ATTEMPTS).data() == "3"
    assert "451" in letters.model.index(row, DeadLettersModel.COL_WHY).data()
    assert letters.model.index(row, DeadLettersModel.COL_TO).data() == (
        f"{address[0]}****@example.in")
    assert letters.resend_button.isEnabled()
    shot(console, tmp_path, "dead_letters")
    with qtbot.waitSignal(console.controller.resent, timeout=15_000):
        letters.resend_button.click()
    assert letters.answer.text().startswith(f"Resent: the order confirmed email of {order_id}")
    assert letters.model.index(row, DeadLettersModel.COL_STATUS).data() == (
        "queued again (resent)")
    assert letters.model.index(row, DeadLettersModel.COL_ATTEMPTS).data() == "3"
    assert not letters.resend_button.isEnabled()  # queued again: nothing left to resend
    assert len(box.wait_for(address)) == 1
    shot(console, tmp_path, "dead_letter_resent")

    # The second supervisor's list is older: the server refuses, and its words are shown.
    assert second_desk.resend_button.isEnabled()
    with qtbot.waitSignal(second_desk.controller.resend_refused, timeout=15_000):
        second_desk.resend_button.click()
    answer = second_desk.answer.text()
    assert answer.startswith(f"Not resent — the server refused the order confirmed email of "
                             f"{order_id}") and "FAILED_PRECONDITION" in answer
    assert "not dead: only a dead letter is resent" in answer
    # …and the list is read again: the message is no longer a dead letter.
    qtbot.waitUntil(lambda: second_desk.model.find(dead.message_id) < 0, timeout=15_000)
    assert second_desk.answer.text() == answer
    second_desk.resize(1000, 360)
    shot(second_desk, tmp_path, "dead_letter_second_resend_refused")
    assert len(box.to(address)) == 1  # sent once

    # The order's timeline follows the message to "sent" by itself.
    console.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: detail.events.index(detail.events.find(dead.message_id),
                                                TimelineModel.COL_STATUS).data() == "sent",
                    timeout=15_000)
    assert detail.timeline_title.text() == "Event timeline · customer messages: 1 sent"


def test_a_token_that_may_not_see_dead_letters_is_told_why(qtbot, tote, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client = ConsoleClient(tote.grpc_address, tote.token("storefront", "shop-n"))
    controller = ConsoleController(client)
    view = DeadLettersView(controller)
    qtbot.addWidget(view)
    try:
        view.resize(900, 300)
        view.show()
        with qtbot.waitSignal(controller.dead_letters_refused, timeout=15_000):
            view.load()
        assert view.note.text().startswith("Dead letters are for supervisors")
        assert "PERMISSION_DENIED" in view.note.toolTip()  # the server's words, on hover
        assert not view.table.isEnabled() and not view.resend_button.isEnabled()
        assert view.resend_button.toolTip() == "Only a supervisor may resend a dead letter"
        shot(view, tmp_path, "dead_letters_denied")
    finally:
        controller.stop()
        client.close()
