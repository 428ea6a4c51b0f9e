"""FulfillmentService RPCs: a mixin of FulfillmentServicer (`self.ctx` is the ServerContext)."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

import grpc
from grpc import aio
from sqlalchemy.exc import IntegrityError

from core.service import picking
from core.service.handlers.picking import NextPickTask, ReportShortPick, ScanItem
from server.auth import current_principal
from server.context import ServerContext
from server.dbexec import utcnow
from tote.v1 import fulfillment_pb2 as pb

# task_id → its FC (never changes once the task exists); bounded by clearing when full.
_TASK_FC: dict[str, str] = {}


async def check_fc(context, fc_id: str) -> None:
    """A token created with --fc works at that FC only (PERMISSION_DENIED elsewhere)."""
    mine = current_principal().fc_id
    if mine and fc_id != mine:
        await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                            f"this token works at {mine} only, not at {fc_id[:64]!r}")


def line_to_pb(line: dict[str, Any]) -> pb.PickLine:
    return pb.PickLine(line_id=line["line_id"], order_id=line["order_id"], sku=line["sku"],
                       gtin=line["gtin"], bin=line["bin"], quantity=line["quantity"],
                       picked=line["picked"], missing=line.get("missing", 0),
                       name=line.get("name", ""))


class PickingRpcs:
    ctx: ServerContext

    def _pick_settings(self) -> picking.PickSettings:
        f = self.ctx.settings.fulfillment
        return picking.PickSettings(batch_orders=f.pick_batch_orders,
                                    batch_lines=f.pick_batch_lines,
                                    task_timeout_s=f.pick_task_timeout_s)

    async def _check_fc(self, context, fc_id: str) -> None:
        await check_fc(context, fc_id)

    async def _check_task_fc(self, context, task_id: str) -> None:
        if not task_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "task_id is required")
        if not current_principal().fc_id:
            return  # a token of every FC: the write itself says NOT_FOUND for a wrong task
        # A task's FC never changes, so reading it before the write is race-free, and once
        # read it is remembered: each scan then costs no read transaction of its own.
        fc_id = _TASK_FC.get(task_id)
        if fc_id is None:
            fc_id = await self.ctx.dbx.read(picking.task_fc, task_id)
            if len(_TASK_FC) >= 100_000:
                _TASK_FC.clear()
            _TASK_FC[task_id] = fc_id
        await self._check_fc(context, fc_id)

    async def NextPickTask(self, request: pb.NextPickTaskRequest,
                           context: aio.ServicerContext) -> pb.PickTask:
        fc_id = request.fc_id or current_principal().fc_id or ""
        await self._check_fc(context, fc_id)
        task = await self.ctx.dbx.execute(NextPickTask(
            fc_id, current_principal().name, self._pick_settings(), utcnow()))
        return pb.PickTask(task_id=task.task_id, fc_id=task.fc_id,
                           lines=[line_to_pb(asdict(line)) for line in task.lines],
                           confirm_bin_scan=task.confirm_bin_scan, tote_code=task.tote_code)

    async def ScanItem(self, request: pb.ScanItemRequest,
                       context: aio.ServicerContext) -> pb.ScanResult:
        await self._check_task_fc(context, request.task_id)
        scan = ScanItem(request.task_id, request.barcode, request.scan_id, request.operator_id,
                        utcnow(), check_prior=False)
        try:
            # Most scans are new: the scan's INSERT itself finds a repeated scan_id.
            reply = await self.ctx.dbx.execute(scan)
        except IntegrityError:
            # A repeated scan_id (a retry, or the same scan twice at once): nothing changed;
            # asked again, it finds the first one stored and gets its reply.
            reply = await self.ctx.dbx.execute(replace(scan, now=utcnow(), check_prior=True))
        return pb.ScanResult(line=line_to_pb(reply["line"]),
                             task_complete=reply["task_complete"])

    async def ReportShortPick(self, request: pb.ReportShortPickRequest,
                              context: aio.ServicerContext) -> pb.ReportShortPickResponse:
        await self._check_task_fc(context, request.task_id)
        reply, cancel = await self.ctx.dbx.execute(ReportShortPick(
            request.task_id, request.line_id, request.missing, request.operator_id, utcnow()))
        if cancel is not None:
            self.ctx.saga.kick(cancel, urgent=True)
        return pb.ReportShortPickResponse(line=line_to_pb(reply["line"]),
                                          task_complete=reply["task_complete"])
