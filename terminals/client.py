"""The few tote RPCs a handheld terminal calls, over one gRPC channel with the bearer token."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from terminals.backoff import ATTEMPTS, call_with_backoff
from terminals.tls import ClientTls, channel
from tote.v1 import fulfillment_pb2 as fpb
from tote.v1 import fulfillment_pb2_grpc

# A handheld waits this long for an answer before it calls the link down.
TIMEOUT_S = 10.0
# Packing captures the payment at the gateway: it may take longer than a scan.
PACK_TIMEOUT_S = 60.0
# A tote's printed code as scanned or typed: "T-0042", "t42" (the server reads it the same way).
TOTE_CODE = re.compile(r"^[Tt][-\s]?\d{1,12}$")
R = TypeVar("R")
_OFFLINE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


class TerminalError(Exception):
    """The server refused (its own words in `message`), or the link is down."""

    def __init__(self, message: str, code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.message, self.code = message, code

    @property
    def offline(self) -> bool:
        return self.code in _OFFLINE

    @property
    def refused(self) -> bool:
        """The server looked at the request and said no (retrying the same will not help)."""
        return self.code == grpc.StatusCode.FAILED_PRECONDITION


def readable(exc: grpc.RpcError) -> TerminalError:
    """A gRPC failure as a message a picker can act on, with the server's own text."""
    code, details = exc.code(), exc.details() or ""
    if code in _OFFLINE:
        return TerminalError(f"server unreachable ({code.name.lower()}): {details}", code)
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return TerminalError(f"token refused: {details}; ask a supervisor for a picker token",
                             code)
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return TerminalError(f"not allowed: {details}", code)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return TerminalError(f"server busy, tried {ATTEMPTS} times: {details}; wait a moment "
                             "and try again", code)
    return TerminalError(details or code.name, code)


class ToteClient:
    """Picker and packer calls; every failure comes out as a TerminalError. `address` is one
    host:port or several replicas' separated by commas (terminals/channel.py)."""

    def __init__(self, address: str, token: str, timeout_s: float = TIMEOUT_S,
                 tls: ClientTls | None = None) -> None:
        self.channel = channel(address, tls)
        self.metadata = (("authorization", f"Bearer {token}"),)
        self.timeout_s = timeout_s
        self.fulfillment = fulfillment_pb2_grpc.FulfillmentServiceStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def _call(self, method: Callable[..., R], request: Message, timeout_s: float | None = None
              ) -> R:
        try:
            return call_with_backoff(lambda: method(
                request, metadata=self.metadata, timeout=timeout_s or self.timeout_s))
        except grpc.RpcError as exc:
            raise readable(exc) from None

    def next_task(self, fc_id: str) -> fpb.PickTask | None:
        """The next pick task at the FC, or None when no work is waiting."""
        try:
            return self._call(self.fulfillment.NextPickTask, fpb.NextPickTaskRequest(fc_id=fc_id))
        except TerminalError as exc:
            if exc.code == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    def scan(self, task_id: str, barcode: str, scan_id: str, operator_id: str = ""
             ) -> fpb.ScanResult:
        """Hard-lock one unit; the same scan_id again counts once."""
        return self._call(self.fulfillment.ScanItem, fpb.ScanItemRequest(
            task_id=task_id, barcode=barcode, scan_id=scan_id, operator_id=operator_id))

    def short_pick(self, task_id: str, line_id: str, missing: int, operator_id: str = ""
                   ) -> fpb.ReportShortPickResponse:
        """Report the line's total missing units."""
        return self._call(self.fulfillment.ReportShortPick, fpb.ReportShortPickRequest(
            task_id=task_id, line_id=line_id, missing=missing, operator_id=operator_id))

    def pack_lists(self, code: str) -> list[fpb.PackList]:
        """What goes in the box for a scanned tote (pick task), shipment or order barcode: one
        pack list per shipment (a tote may hold several)."""
        reply = self._call(self.fulfillment.GetPackList, pack_list_request(code))
        return list(reply.pack_lists)

    def pack_order(self, order_id: str, weight_grams: int, box: str, shipment_id: str = ""
                   ) -> fpb.PackResult:
        """Pack the shipment (the payment is captured): its carrier, tracking number and label."""
        return self._call(self.fulfillment.PackOrder, fpb.PackOrderRequest(
            order_id=order_id, weight_grams=weight_grams, box=box, shipment_id=shipment_id),
            timeout_s=PACK_TIMEOUT_S)


def pack_list_request(code: str) -> fpb.GetPackListRequest:
    """A scanned code as GetPackList's question: tote labels carry the tote code (T-0042; an
    older tote the pick task id pt_…), shipment labels the shipment id (shp_…); anything else
    is taken for an order id."""
    code = code.strip()
    if TOTE_CODE.match(code):
        return fpb.GetPackListRequest(tote_code=code)
    if code.startswith("pt_"):
        return fpb.GetPackListRequest(task_id=code)
    if code.startswith("shp_"):
        return fpb.GetPackListRequest(shipment_id=code)
    return fpb.GetPackListRequest(order_id=code)
