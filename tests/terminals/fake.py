"""A client with no network: pick tasks in memory, failures on demand."""

from __future__ import annotations

import grpc

from terminals.client import TerminalError
from tote.v1 import fulfillment_pb2 as fpb


def task(*lines: tuple, task_id: str = "T1", confirm_bin_scan: bool = False) -> fpb.PickTask:
    """A task of (sku, gtin, bin, quantity[, name]) lines, all for order O1."""
    return fpb.PickTask(task_id=task_id, fc_id="FC1", confirm_bin_scan=confirm_bin_scan, lines=[
        fpb.PickLine(line_id=f"L{i}", order_id="O1", sku=sku, gtin=gtin, bin=bin_,
                     quantity=qty, name=name[0] if name else "")
        for i, (sku, gtin, bin_, qty, *name) in enumerate(lines, 1)])


class FakeClient:
    def __init__(self, *tasks: fpb.PickTask) -> None:
        self.tasks = list(tasks)
        self.current: fpb.PickTask | None = None
        self.scans: list[tuple[str, str, str, str]] = []  # task, barcode, scan id, operator
        self.shorts: list[tuple[str, str, int, str]] = []  # task, line, missing, operator
        self.fail: TerminalError | None = None  # raised by the next calls while set

    def next_task(self, fc_id: str) -> fpb.PickTask | None:
        if self.fail is not None:
            raise self.fail
        self.current = self.tasks.pop(0) if self.tasks else None
        return self.current

    def _complete(self) -> bool:
        assert self.current is not None
        return all(ln.picked + ln.missing >= ln.quantity for ln in self.current.lines)

    def scan(self, task_id: str, barcode: str, scan_id: str, operator_id: str = ""
             ) -> fpb.ScanResult:
        if self.fail is not None:
            raise self.fail
        assert self.current is not None and task_id == self.current.task_id
        self.scans.append((task_id, barcode, scan_id, operator_id))
        for line in self.current.lines:
            if line.gtin == barcode and line.picked + line.missing < line.quantity:
                line.picked += 1
                return fpb.ScanResult(line=line, task_complete=self._complete())
        raise TerminalError(f"expected something else; scanned {barcode}",
                            grpc.StatusCode.FAILED_PRECONDITION)

    def short_pick(self, task_id: str, line_id: str, missing: int, operator_id: str = ""
                   ) -> fpb.ReportShortPickResponse:
        if self.fail is not None:
            raise self.fail
        assert self.current is not None
        self.shorts.append((task_id, line_id, missing, operator_id))
        line = next(ln for ln in self.current.lines if ln.line_id == line_id)
        line.missing = missing
        return fpb.ReportShortPickResponse(line=line, task_complete=self._complete())


def pack_list(order_id: str, *lines: tuple, shipment_id: str = "", weight: int = 700,
              status: str = "picked") -> fpb.PackList:
    """One shipment's pack list of (sku, gtin, units picked[, name]) lines."""
    return fpb.PackList(
        order_id=order_id, shipment_id=shipment_id or f"shp_{order_id}", fc_id="FC1",
        status=status, expected_weight_grams=weight, lines=[
            fpb.PickLine(line_id=f"{order_id}-L{i}", order_id=order_id, sku=sku, gtin=gtin,
                         bin="A-01-1", quantity=qty, picked=qty, name=name[0] if name else "")
            for i, (sku, gtin, qty, *name) in enumerate(lines, 1)])


SOAP_UNIT = ("SOAP-1", "4006381333931", 1, "Sandal soap")


class FakePackClient:
    """GetPackList from `lists` (code → pack lists; by default order O-42 of one soap) and
    PackOrder of any shipment, or raises `fail`."""

    def __init__(self, lists: dict[str, list[fpb.PackList]] | None = None) -> None:
        self.lists = lists if lists is not None else {"O-42": [pack_list("O-42", SOAP_UNIT)]}
        self.looked_up: list[str] = []
        self.packed: list[tuple[str, int, str, str]] = []  # order, grams, box, shipment
        self.fail: TerminalError | None = None

    def pack_lists(self, code: str) -> list[fpb.PackList]:
        if self.fail is not None:
            raise self.fail
        self.looked_up.append(code)
        if code not in self.lists:
            raise TerminalError(f"no order {code!r}", grpc.StatusCode.NOT_FOUND)
        return self.lists[code]

    def pack_order(self, order_id: str, weight_grams: int, box: str, shipment_id: str = ""
                   ):  # type: ignore[no-untyped-def]
        from tote.v1 import common_pb2

        if self.fail is not None:
            raise self.fail
        self.packed.append((order_id, weight_grams, box, shipment_id))
        tracking = f"TRK{len(self.packed):06d}"
        return fpb.PackResult(
            order=common_pb2.Order(order_id=order_id, carrier="sandbox",
                                   tracking_number=tracking),
            label=common_pb2.Label(tracking_number=tracking,
                                   format=common_pb2.LABEL_FORMAT_PDF, content=b"%PDF-1.7 x"))
