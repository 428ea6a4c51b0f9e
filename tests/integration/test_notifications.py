"""Customer notifications on a real `tote serve`: a real SMTP server (aiosmtpd) and the sandbox's
SMS provider receive what the sender sends; opt-outs, retries, dead letters and resends.

The server's own outbox consumer (`notifications`, core/service/outbox.py) fans each order's
events out into messages; its sender sends them.
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import grpc
import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from core.persistence import migrate
from core.persistence.db import Database
from core.persistence.models import OrderEvent
from core.persistence.notification_models import NotificationMessage
from core.service import notifications
from tests.harness import Client, ToteServer, cod, free_port, unique
from tote.v1 import common_pb2, notifications_pb2, notifications_pb2_grpc, orders_pb2

PROCESSING = common_pb2.ORDER_STATUS_PROCESSING


class Inbox:
    """aiosmtpd's handler: every message accepted, parsed; a switch to refuse them (451)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refusing = False
        self.cond = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusing:
            return "451 4.3.0 try again later"
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.cond:
            self.messages.append(msg)  # type: ignore[arg-type]
            self.cond.notify_all()
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, n: int = 1, timeout_s: float = 20) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while len(self.to(address)) < n and time.monotonic() < deadline:
                self.cond.wait(0.1)
        return self.to(address)


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def tote(inbox, tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    _, smtp_port = inbox
    url = str(tmp_path_factory.mktemp("db") / "tote.db")
    migrate.upgrade(url)
    sandbox_port = free_port()
    server = ToteServer(url, tmp_path_factory.mktemp("serve"), sandbox=False, args=[
        "--sandbox", "--sandbox-listen", f"127.0.0.1:{sandbox_port}",
        "--smtp-url", f"smtp://127.0.0.1:{smtp_port}", "--mail-from", "Shop <shop@example.in>",
        "--sms-url", f"http://127.0.0.1:{sandbox_port}",
        "--notify-retry-schedule", "200ms,200ms", "--notify-interval-s", "0.05",
        "--cod-limit-minor", "2000000"]).start()
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture(scope="module")
def admin(tote) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    with closing(tote.client(tote.token("admin", "ops"))) as made:
        made.fc("FC-NOTE")
        yield made


@pytest.fixture(scope="module")
def shop(tote) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    with closing(tote.client(tote.token("storefront", "shop-n"))) as made:
        yield made


def notify_stub(tote: ToteServer, client: Client) -> Any:
    return notifications_pb2_grpc.NotificationServiceStub(client.channel)


def contact(**kw: str) -> common_pb2.CustomerContact:
    return common_pb2.CustomerContact(**kw)


def confirmed_order(admin: Client, shop: Client, who: common_pb2.CustomerContact,
                    customer_id: str = "") -> str:
    sku = unique("LAMP")
    admin.product(sku, price_minor=123_450, weight_grams=400)
    admin.receive("FC-NOTE", sku, 3)
    placed = shop.place([(sku, 1)], cod(), contact=who, customer_id=customer_id or unique("c"))
    order = shop.wait_status(placed.order_id, {PROCESSING})
    assert order.status == PROCESSING, order.cancel_reason
    return placed.order_id


def fan_out(tote: ToteServer, order_id: str) -> None:
    """Wait until the server's outbox consumer has made the order's messages."""
    assert wait_until(lambda: stored(tote, order_id)), f"no message was made for {order_id}"


def fan_out_again(tote: ToteServer, order_id: str) -> None:
    """The consumer's fan_out over the order's events once more (a redelivered batch), in one
    transaction, as the consumer runs it."""
    db = Database(tote.db_url)
    try:
        db.run_write(lambda s: notifications.fan_out(s, list(s.scalars(select(OrderEvent).where(
            OrderEvent.order_id == order_id).order_by(OrderEvent.event_id))), datetime.now(UTC)))
    finally:
        db.dispose()


def stored(tote: ToteServer, order_id: str) -> list[NotificationMessage]:
    db = Database(tote.db_url)
    try:
        return db.run_read(lambda s: list(s.scalars(select(NotificationMessage).where(
            NotificationMessage.order_id == order_id))))
    finally:
        db.dispose()


def texts(tote: ToteServer, phone: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{tote.sandbox_url}/v1/sms/messages", params={"to": phone})
    answer.raise_for_status()
    return list(answer.json()["messages"])


def wait_until(check: Any, timeout_s: float = 20) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def parts(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None, msg
    return text.get_content(), html.get_content()


def test_the_confirmation_email_arrives_once_with_text_and_html_and_an_sms_too(
        tote, admin, shop, inbox) -> None:  # type: ignore[no-untyped-def]
    box, _ = inbox
    address, phone = f"{unique('asha')}@example.in".lower(), "+919800000101"
    order_id = confirmed_order(admin, shop, contact(email=address, phone=phone, locale="en-IN"))
    assert shop.get(order_id).contact.email == address
    fan_out(tote, order_id)
    fan_out_again(tote, order_id)  # the same events handled again add nothing
    (msg,) = box.wait_for(address)
    assert msg["Subject"] == f"Your order {order_id} is confirmed"
    assert msg["From"] == "Shop <shop@example.in>"
    text, html = parts(msg)
    assert "₹1,274.50" in text and "cash" in text  # (₹1,234.50 and the ₹40 fee)
    assert "<p>" in html and order_id in html
    sms = wait_until(lambda: texts(tote, phone))
    assert len(sms) == 1 and order_id in sms[0]["body"]
    rows = wait_until(lambda: [r for r in stored(tote, order_id) if r.status == "sent"] if all(
        r.status == "sent" for r in stored(tote, order_id)) else [])
    assert sorted(r.channel for r in rows) == ["email", "sms"]
    assert all(r.attempts == 1 for r in rows)
    listed = notify_stub(tote, shop).ListMessages(
        notifications_pb2.ListMessagesRequest(order_id=order_id), metadata=shop.metadata)
    assert {(m.channel, m.status) for m in listed.messages} == {("email", "sent"), ("sms", "sent")}
    assert any(m.subject == msg["Subject"] for m in listed.messages)
    assert len(box.to(address)) == 1 and len(texts(tote, phone)) == 1


def test_a_hindi_locale_gets_the_hindi_message(tote, admin, shop, inbox) -> None:  # type: ignore[no-untyped-def]
    box, _ = inbox
    address = f"{unique('ravi')}@example.in".lower()
    order_id = confirmed_order(admin, shop, contact(email=address, locale="hi-IN"))
    fan_out(tote, order_id)
    (msg,) = box.wait_for(address)
    assert msg["Subject"] == f"आपका ऑर्डर {order_id} पक्का हो गया है"
    text, html = parts(msg)
    assert "नमस्ते" in text and 'lang="hi"' in html


def test_html_is_escaped_and_text_is_not(tote, admin, shop, inbox) -> None:  # type: ignore[no-untyped-def]
    box, _ = inbox
    address = f"{unique('esc')}@example.in".lower()
    sku = unique("CUP")
    admin.product(sku)
    admin.receive("FC-NOTE", sku, 1)
    ship_to = common_pb2.Address(name="<b>Asha & Co</b>", line1="1 MG Road", city="Bengaluru",
                                 postal_code="560001", country="IN", phone="+919800000001")
    placed = shop.place([(sku, 1)], cod(), contact=contact(email=address), ship_to=ship_to)
    shop.wait_status(placed.order_id, {PROCESSING})
    fan_out(tote, placed.order_id)
    (msg,) = box.wait_for(address)
    text, html = parts(msg)
    assert "<b>Asha & Co</b>" in text
    assert "&lt;b&gt;Asha &amp; Co&lt;/b&gt;" in html and "<b>Asha" not in html


def test_an_opted_out_channel_gets_nothing(tote, admin, shop, inbox) -> None:  # type: ignore[no-untyped-def]
    box, _ = inbox
    customer = unique("quiet")
    stub = notify_stub(tote, shop)
    prefs = stub.SetPreferences(notifications_pb2.SetPreferencesRequest(
        preferences=notifications_pb2.NotificationPreferences(customer_id=customer,
                                                              email_opt_out=True)),
        metadata=shop.metadata)
    assert prefs.storefront == "shop-n" and prefs.email_opt_out and not prefs.sms_opt_out
    address, phone = f"{customer}@example.in".lower(), "+919800000202"
    order_id = confirmed_order(admin, shop, contact(email=address, phone=phone), customer)
    fan_out(tote, order_id)
    assert wait_until(lambda: texts(tote, phone))
    assert [r.channel for r in stored(tote, order_id)] == ["sms"]
    assert box.to(address) == []


def test_smtp_down_is_retried_then_a_dead_letter_that_resend_delivers(
        tote, admin, shop, inbox) -> None:  # type: ignore[no-untyped-def]
    box, _ = inbox
    address = f"{unique('late')}@example.in".lower()
    box.refusing = True
    try:
        order_id = confirmed_order(admin, shop, contact(email=address))
        fan_out(tote, order_id)
        # Schedule 200ms,200ms: three attempts, then dead.
        (dead,) = wait_until(lambda: [r for r in stored(tote, order_id) if r.status == "dead"])
        assert dead.attempts == 3 and "451" in (dead.last_error or "")
    finally:
        box.refusing = False
    assert box.to(address) == []
    stub = notify_stub(tote, admin)
    letters = stub.ListDeadLetters(notifications_pb2.ListDeadLettersRequest(),
                                   metadata=admin.metadata).messages
    assert dead.message_id in [m.message_id for m in letters]
    again = stub.Resend(notifications_pb2.ResendRequest(message_id=dead.message_id),
                        metadata=admin.metadata)
    assert again.status == "queued"
    assert len(box.wait_for(address)) == 1
    with pytest.raises(grpc.RpcError) as refused:  # sent now: not a dead letter any more
        wait_until(lambda: stored(tote, order_id)[0].status == "sent")
        stub.Resend(notifications_pb2.ResendRequest(message_id=dead.message_id),
                    metadata=admin.metadata)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.RpcError) as denied:
        notify_stub(tote, shop).ListDeadLetters(notifications_pb2.ListDeadLettersRequest(),
                                                metadata=shop.metadata)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_smtp_refusing_for_a_while_is_retried_and_delivered_once_back(
        tote, admin, shop, inbox) -> None:  # type: ignore[no-untyped-def]
    box, _ = inbox
    address = f"{unique('retry')}@example.in".lower()
    box.refusing = True
    try:
        order_id = confirmed_order(admin, shop, contact(email=address))
        fan_out(tote, order_id)
        assert wait_until(lambda: any(r.attempts >= 1 and r.status == "queued"
                                      for r in stored(tote, order_id)))
    finally:
        box.refusing = False
    assert len(box.wait_for(address)) == 1
    (row,) = wait_until(lambda: [r for r in stored(tote, order_id) if r.status == "sent"])
    assert row.attempts == 2


@pytest.mark.parametrize("who, field", [
    (contact(email="not-an-address"), "contact.email"),
    (contact(email="a@b"), "contact.email"),
    (contact(phone="98000 00001"), "contact.phone"),
    (contact(phone="+91 98000 00001"), "contact.phone"),
    (contact(email="x@example.in", locale="fr-FR"), "contact.locale"),
    (contact(email="x@example.in", locale="en_IN!"), "contact.locale"),
])
def test_a_bad_contact_is_refused_naming_the_field_and_nothing_is_stored(
        tote, admin, shop, who, field) -> None:  # type: ignore[no-untyped-def]
    customer = unique("bad")
    with pytest.raises(grpc.RpcError) as refused:
        shop.place([("ANY", 1)], cod(), contact=who, customer_id=customer)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (refused.value.details() or "")
    listed = admin.orders.ListOrders(orders_pb2.ListOrdersRequest(customer_id=customer),
                                     metadata=admin.metadata)
    assert list(listed.orders) == []


def test_the_contact_is_part_of_the_idempotent_request(tote, admin, shop) -> None:  # type: ignore[no-untyped-def]
    sku = unique("PEN")
    admin.product(sku)
    admin.receive("FC-NOTE", sku, 2)
    key = unique("key")
    first = shop.place([(sku, 1)], cod(), key=key, customer_id="c-1",
                       contact=contact(email="one@example.in"))
    again = shop.place([(sku, 1)], cod(), key=key, customer_id="c-1",
                       contact=contact(email="one@example.in"))
    assert again.order_id == first.order_id and again.contact.email == "one@example.in"
    with pytest.raises(grpc.RpcError) as refused:
        shop.place([(sku, 1)], cod(), key=key, customer_id="c-1",
                   contact=contact(email="two@example.in"))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
