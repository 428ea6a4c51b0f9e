"""What the string checks of every request cost (server/fields.py), per request, with timeit.

    .venv/bin/python bench/request_checks.py

"before" is the parser as it was (parse, then look for a zero byte); "after" is the parser
every RPC gets now (parse, then one walk over every string: length, NUL, format, card number).
A ScanItem-sized and a PlaceOrder-sized request, best of 7. Asserts nothing.
"""

from __future__ import annotations

import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from google.protobuf.message import DecodeError  # noqa: E402

from server.decode import safe_parser  # noqa: E402
from tote.v1 import common_pb2, fulfillment_pb2, orders_pb2  # noqa: E402


def old_parser(parse: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def parse_or_refuse(raw: bytes) -> Any:
        try:
            message = parse(raw)
        except DecodeError:
            return None
        _ = b"\x00" in raw  # (the NUL walk ran only for requests holding a zero byte)
        return message
    return parse_or_refuse


def per_call(parse: Callable[[bytes], Any], raw: bytes, n: int = 50_000) -> float:
    """µs per parse, best of 7."""
    return min(timeit.repeat(lambda: parse(raw), number=n, repeat=7)) / n * 1e6


def main() -> None:
    scan = fulfillment_pb2.ScanItemRequest(
        task_id="TSK-01J0ABCDEFGHJKMNPQRSTVWX", barcode="4006381333931",
        scan_id="3f2a9c1e-8b7d-4e5f-9a0b-1c2d3e4f5a6b", operator_id="op-badge-0042")
    place = orders_pb2.PlaceOrderRequest(
        idempotency_key="5f0c9a4b1c2d4e3f8a7b6c5d4e3f2a10", customer_id="cust-00042",
        lines=[common_pb2.OrderLine(sku="MUG-1", quantity=1),
               common_pb2.OrderLine(sku="MUG-2", quantity=2)],
        ship_to=common_pb2.Address(name="Ananya Sharma", line1="12 MG Road", city="Bengaluru",
                                   region="KA", postal_code="560001", country="IN",
                                   phone="+919800000001", latitude=12.97, longitude=77.6),
        payment=common_pb2.PaymentMethod(cod=common_pb2.CashOnDelivery()), currency="INR")
    for name, msg, path in [("ScanItem", scan, "/tote.v1.FulfillmentService/ScanItem"),
                            ("PlaceOrder", place, "/tote.v1.OrderService/PlaceOrder")]:
        raw, parse = msg.SerializeToString(), type(msg).FromString
        before, after = old_parser(parse), safe_parser(path, parse)
        assert after is not None
        b, a = per_call(before, raw), per_call(after, raw)
        print(f"{name} ({len(raw)} bytes): before {b:.2f} µs, after {a:.2f} µs "
              f"(+{a - b:.2f} µs a request)")


if __name__ == "__main__":
    main()
