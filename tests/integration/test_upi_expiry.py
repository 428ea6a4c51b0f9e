"""An unapproved UPI intent expires: the order is cancelled and its locks released."""

from collections.abc import Iterator

import httpx
import pytest

from tests.harness import Client, ToteServer, unique, upi
from tote.v1 import common_pb2 as pb


@pytest.fixture(scope="module")
def tote(db_url, tmp_path_factory) -> Iterator[ToteServer]:  # type: ignore[no-untyped-def]
    server = ToteServer(db_url, tmp_path_factory.mktemp("serve"),
                        args=["--upi-expiry-s", "2", "--upi-poll-s", "0.2"]).start()
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture(scope="module")
def admin(tote) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    client = tote.client(tote.token("admin"))
    client.fc("FC-BLR")
    yield client
    client.close()


def test_unapproved_intent_expires_cancels_the_order_and_releases_locks(tote, admin):
    sku = unique("JAM")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 2)
    placed = admin.place([(sku, 2)], upi())
    order = admin.wait_status(placed.order_id, {pb.ORDER_STATUS_CANCELLED,
                                                pb.ORDER_STATUS_PROCESSING}, timeout_s=20)
    assert order.status == pb.ORDER_STATUS_CANCELLED
    assert "not approved within" in order.cancel_reason
    assert admin.stock(sku) == (2, 0, 2)
    intent = httpx.get(f"{tote.sandbox_url}/v1/upi/intents/{placed.payment.upi_intent_id}").json()
    assert intent["status"] in ("cancelled", "expired")
    # The customer's late approval is refused: nothing is debited for a cancelled order.
    late = httpx.post(f"{tote.sandbox_url}/v1/upi/intents/{placed.payment.upi_intent_id}/approve")
    assert late.status_code in (404, 409)
