"""A storefront's checkout calling tote: place cash-on-delivery orders, backing off when throttled.

    python examples/storefront.py --server 127.0.0.1:50051 --token-file shop-a.token \\
        --sku MUG --quantity 2 [--orders 3]

`--server` may list several replicas (`host1:50051,host2:50051`): the channel
(terminals/channel.py, the same the terminals and the console use) spreads the calls over them
with gRPC's round_robin and retries PlaceOrder on another replica when one goes away (safe:
the idempotency key makes a second PlaceOrder return the first order). Needs grpcio, the
generated stubs (`tote.v1`) and that one module. tote limits each token's calls
(`tote serve --rate-limit`, `tote token create --rate-limit`); over the limit a call is refused
with RESOURCE_EXHAUSTED and `retry-after-ms` in its trailing metadata. A refused call changed
nothing, so this client waits as long as tote says and calls again, a bounded number of times.
Every order has its own idempotency key, kept across the retries: a retry after a lost answer
cannot place a second order. Prints each order's id and status; exit 1 if tote refused one.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from terminals.channel import AddressError, open_channel
from tote.v1 import common_pb2, orders_pb2, orders_pb2_grpc

ATTEMPTS = 6
MAX_WAIT_S = 10.0
R = TypeVar("R")


def retry_after_s(exc: grpc.RpcError) -> float | None:
    """tote's delay for a throttled call, or None (not throttled: do not retry)."""
    if exc.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
        return None
    for key, value in exc.trailing_metadata() or ():
        if key == "retry-after-ms":
            return min(MAX_WAIT_S, int(value) / 1000)
    return None


def call(method: Callable[..., R], request: Message, metadata: Sequence[tuple[str, str]]
         ) -> R:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return method(request, metadata=metadata, timeout=30)
        except grpc.RpcError as exc:
            delay = retry_after_s(exc)
            if delay is None or attempt == ATTEMPTS:
                raise
            print(f"throttled ({exc.details()}); retrying in {delay * 1000:.0f} ms",
                  file=sys.stderr)
            time.sleep(delay * (1 + random.random() * 0.1))  # jitter: not all at once


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default="127.0.0.1:50051",
                        help="host:port, or several replicas' host1:port,host2:port")
    parser.add_argument("--token-file", required=True, help="a storefront token on one line")
    parser.add_argument("--sku", required=True)
    parser.add_argument("--quantity", type=int, default=1)
    parser.add_argument("--orders", type=int, default=1)
    args = parser.parse_args()
    with open(args.token_file, encoding="utf-8") as f:
        metadata = (("authorization", f"Bearer {f.read().strip()}"),)
    try:
        channel = open_channel(args.server, None)
    except AddressError as exc:
        parser.error(str(exc))
    with channel:
        orders = orders_pb2_grpc.OrderServiceStub(channel)
        for _ in range(args.orders):
            request = orders_pb2.PlaceOrderRequest(
                idempotency_key=f"cart-{uuid.uuid4()}", customer_id="c-42", currency="INR",
                lines=[common_pb2.OrderLine(sku=args.sku, quantity=args.quantity)],
                ship_to=common_pb2.Address(name="Ananya Sharma", line1="12 MG Road",
                                           city="Bengaluru", postal_code="560001",
                                           country="IN", phone="+919800000000"),
                payment=common_pb2.PaymentMethod(cod=common_pb2.CashOnDelivery()))
            try:
                order = call(orders.PlaceOrder, request, metadata)
            except grpc.RpcError as exc:
                print(f"tote refused the order: {exc.code().name}: {exc.details()}",
                      file=sys.stderr)
                return 1
            print(order.order_id, common_pb2.OrderStatus.Name(order.status))
    return 0


if __name__ == "__main__":
    sys.exit(main())
