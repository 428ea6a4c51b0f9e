"""PlaceOrder's whole transaction as one database job: request bytes in, reply bytes out.

On SQLite the job runs in the writer process (server/dbwriter.py), so the request is parsed and
the reply built there, beside the SQL, instead of on the event loop that every RPC shares: the
loop only hands the bytes over and back, and no command or order row is pickled on the way.
Elsewhere (PostgreSQL, the thread writer) it runs on a worker thread, just the same.
"""

from __future__ import annotations

from datetime import datetime

from google.protobuf.message import DecodeError
from sqlalchemy.orm import Session

from core.domain.errors import InvalidArgument
from core.service import orders
from core.service.orders import OrderSettings
from core.service.saga_steps import SagaState, state_of
from server import convert
from tote.v1 import orders_pb2


def place_order(
    session: Session, request: bytes, storefront: str, settings: OrderSettings, now: datetime,
) -> tuple[bytes, SagaState | None]:
    """The serialized Order reply, and the new order's saga state (None for a retry)."""
    try:
        message = orders_pb2.PlaceOrderRequest.FromString(request)
    except DecodeError:
        raise InvalidArgument("the request is not a tote.v1.PlaceOrderRequest") from None
    cmd = convert.place_order_from_pb(message, storefront)
    snap, created = orders.place_order(session, cmd, settings, now)
    reply = convert.order_to_pb(snap).SerializeToString()
    return reply, state_of(snap.order) if created else None
