"""ShippingService: labels, carrier hand-off, tracking and COD reconciliation."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from datetime import UTC

from grpc import aio

import labels
from core.domain.errors import FailedPrecondition
from core.persistence.models import utcnow
from core.service import cod, packing, shipping
from core.service.handlers.shipping import HandOff, RecordCodRemittance, RecordTrackingEvent
from server import convert
from server.context import ServerContext
from tote.v1 import common_pb2, shipping_pb2, shipping_pb2_grpc


class ShippingServicer(shipping_pb2_grpc.ShippingServiceServicer):
    def __init__(self, ctx: ServerContext) -> None:
        self.ctx = ctx

    async def GetLabel(self, request: shipping_pb2.GetLabelRequest,
                       context: aio.ServicerContext) -> common_pb2.Label:
        """The label of the order's first shipment, as PDF (default) or ZPL, for reprinting."""
        label = await self.ctx.dbx.read(packing.first_label, request.order_id)
        if request.format == common_pb2.LABEL_FORMAT_ZPL:
            return common_pb2.Label(tracking_number=label.tracking_number,
                                    format=common_pb2.LABEL_FORMAT_ZPL,
                                    content=label.zpl.encode())
        return common_pb2.Label(tracking_number=label.tracking_number,
                                format=common_pb2.LABEL_FORMAT_PDF, content=label.pdf)

    async def HandOff(self, request: shipping_pb2.HandOffRequest,
                      context: aio.ServicerContext) -> shipping_pb2.Manifest:
        numbers = list(request.tracking_numbers)
        draft = await self.ctx.dbx.read(shipping.plan_hand_off, request.carrier, numbers)
        now = utcnow()
        manifest_id = _manifest_id(now)
        # Rendered before the transaction (it reads its barcodes back: slow, and no lock held).
        pdf = await asyncio.to_thread(_render_manifest, draft, manifest_id, now)
        await self.ctx.dbx.execute(HandOff(request.carrier, tuple(numbers), manifest_id, pdf, now))
        return shipping_pb2.Manifest(manifest_id=manifest_id, carrier=request.carrier,
                                     tracking_numbers=numbers, pdf=pdf,
                                     created_at=convert.ts(now))

    async def GetManifest(self, request: shipping_pb2.GetManifestRequest,
                          context: aio.ServicerContext) -> shipping_pb2.Manifest:
        """A manifest again, with the PDF stored at hand-off (a reprint)."""
        m = await self.ctx.dbx.read(shipping.get_manifest, request.manifest_id)
        return shipping_pb2.Manifest(manifest_id=m.manifest_id, carrier=m.carrier,
                                     tracking_numbers=m.tracking_numbers, pdf=m.pdf,
                                     created_at=convert.ts(m.created_at))

    async def RecordTrackingEvent(
        self, request: shipping_pb2.RecordTrackingEventRequest, context: aio.ServicerContext,
    ) -> shipping_pb2.RecordTrackingEventResponse:
        cash = request.cod_collected
        # An amount without a currency is a report, and a wrong one (not "none reported").
        reported = ((cash.amount_minor, cash.currency) if cash.currency or cash.amount_minor
                    else None)
        now = utcnow()
        snap = await self.ctx.dbx.execute(RecordTrackingEvent(
            request.tracking_number, request.status, request.location, reported, now))
        return shipping_pb2.RecordTrackingEventResponse(order=convert.order_to_pb(snap))

    async def RecordCodRemittance(self, request: shipping_pb2.RecordCodRemittanceRequest,
                                  context: aio.ServicerContext) -> shipping_pb2.CodRemittance:
        rem = await self.ctx.dbx.execute(RecordCodRemittance(
            request.carrier, request.reference, request.amount.amount_minor,
            request.amount.currency, tuple(request.tracking_numbers), utcnow()))
        return shipping_pb2.CodRemittance(
            remittance_id=rem.remittance_id, carrier=rem.carrier, reference=rem.reference,
            amount=convert.money(rem.amount_minor, rem.currency),
            tracking_numbers=rem.tracking_numbers)

    async def GetCodReconciliation(self, request: shipping_pb2.GetCodReconciliationRequest,
                                   context: aio.ServicerContext) -> shipping_pb2.CodReconciliation:
        days = self.ctx.settings.fulfillment.cod_remit_days
        rec = await self.ctx.dbx.read(cod.reconcile, request.carrier, utcnow(), days)
        cur = rec.currency
        return shipping_pb2.CodReconciliation(
            expected=convert.money(rec.expected_minor, cur),
            collected=convert.money(rec.collected_minor, cur),
            remitted=convert.money(rec.remitted_minor, cur),
            discrepancies=[shipping_pb2.CodDiscrepancy(
                tracking_number=d.tracking_number, kind=d.kind,
                expected=convert.money(d.expected_minor, cur),
                actual=convert.money(d.actual_minor, cur), detail=d.detail)
                for d in rec.discrepancies])


def _manifest_id(now: dt.datetime) -> str:
    """'MF' + time + random digits: short and mostly digits, so its barcode fits the sheet."""
    return f"MF{now:%y%m%d%H%M%S}{secrets.randbelow(10**6):06d}"


def _render_manifest(draft: shipping.ManifestDraft, manifest_id: str, now: dt.datetime) -> bytes:
    """The manifest PDF the carrier's driver signs (labels' own dataclasses, read back)."""
    a = draft.fc_address
    ship_from = labels.Address(
        name=a.get("name") or draft.fc_name, line1=a.get("line1") or draft.fc_name,
        line2=a.get("line2") or "", city=a.get("city") or draft.fc_id,
        region=a.get("region") or "", postal_code=a.get("postal_code") or "-",
        country=a.get("country") or "IN", phone=a.get("phone") or "")
    parcels = tuple(labels.ManifestParcel(
        tracking_number=p.tracking_number, order_id=p.order_id, destination=p.destination,
        weight_grams=max(p.weight_grams, 1),
        cod=labels.Money(p.cod_minor, p.currency) if p.cod_minor > 0 else None)
        for p in draft.parcels)
    try:
        return labels.render_manifest(labels.Manifest(
            manifest_id=manifest_id, carrier=draft.carrier, ship_from=ship_from,
            handed_over=now.astimezone(UTC), parcels=parcels))
    except labels.LabelError as exc:
        raise FailedPrecondition(f"the manifest cannot be printed: {exc}; nothing was "
                                 "shipped") from None
