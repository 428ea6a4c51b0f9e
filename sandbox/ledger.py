"""The sandbox gateway's money book: authorizations, captures, refunds and every entry made."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from core.domain.money import format_money

from .wire import SandboxError, new_id


@dataclass
class LedgerEntry:
    """One operation the gateway performed (a replayed request never adds one)."""

    id: str
    kind: str  # authorization | capture | void | refund | settlement
    amount_minor: int
    currency: str
    reference: str
    authorization_id: str | None
    idempotency_key: str | None
    status: str
    capture_id: str | None = None
    refund_id: str | None = None
    upi_intent_id: str | None = None
    created: int = 0


@dataclass
class AuthorizationRecord:
    """A hold on a card: authorized, then captured or voided (or declined from the start)."""

    id: str
    amount_minor: int
    currency: str
    reference: str
    status: str  # authorized | declined | voided | captured
    last4: str
    brand: str
    captured_minor: int = 0
    capture_id: str | None = None

    def public(self) -> dict[str, Any]:
        """The authorization as JSON."""
        return {
            "id": self.id,
            "object": "authorization",
            "status": self.status,
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "reference": self.reference,
            "captured_minor": self.captured_minor,
            "capture_id": self.capture_id,
            "card": {"last4": self.last4, "brand": self.brand},
        }


@dataclass
class CaptureRecord:
    """Money taken: from a card authorization or an approved UPI intent."""

    id: str
    amount_minor: int
    currency: str
    reference: str
    authorization_id: str | None
    upi_intent_id: str | None
    refunded_minor: int = 0
    settled: bool = False

    def public(self) -> dict[str, Any]:
        """The capture as JSON."""
        return {
            "id": self.id,
            "object": "capture",
            "status": "captured",
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "reference": self.reference,
            "authorization_id": self.authorization_id,
            "upi_intent_id": self.upi_intent_id,
            "refunded_minor": self.refunded_minor,
            "settled": self.settled,
        }


@dataclass
class Ledger:
    """Objects by id plus the append-only list of entries."""

    clock: Callable[[], float]
    entries: list[LedgerEntry] = field(default_factory=list)
    authorizations: dict[str, AuthorizationRecord] = field(default_factory=dict)
    captures: dict[str, CaptureRecord] = field(default_factory=dict)

    def _record(self, **kw: Any) -> LedgerEntry:
        entry = LedgerEntry(id=new_id("le"), created=int(self.clock()), **kw)
        self.entries.append(entry)
        return entry

    def public_entries(self, reference: str | None = None) -> list[dict[str, Any]]:
        """Entries as JSON, oldest first, optionally only those of one reference (order id)."""
        return [asdict(e) for e in self.entries if reference is None or e.reference == reference]

    def authorization(self, authorization_id: str) -> AuthorizationRecord:
        """The authorization with this id, else 404."""
        auth = self.authorizations.get(authorization_id)
        if auth is None:
            raise SandboxError(404, "not_found", f"no authorization {authorization_id!r}")
        return auth

    def capture_record(self, capture_id: str) -> CaptureRecord:
        """The capture with this id, else 404."""
        capture = self.captures.get(capture_id)
        if capture is None:
            raise SandboxError(404, "not_found", f"no capture {capture_id!r}")
        return capture

    def open_authorization(
        self,
        *,
        amount_minor: int,
        currency: str,
        reference: str,
        last4: str,
        brand: str,
        declined: bool,
        key: str | None,
    ) -> AuthorizationRecord:
        """Record an authorization attempt: a hold, or a decline (a definite answer too)."""
        auth = AuthorizationRecord(
            id=new_id("auth"),
            amount_minor=amount_minor,
            currency=currency,
            reference=reference,
            status="declined" if declined else "authorized",
            last4=last4,
            brand=brand,
        )
        self.authorizations[auth.id] = auth
        self._record(
            kind="authorization",
            amount_minor=amount_minor,
            currency=currency,
            reference=reference,
            authorization_id=auth.id,
            idempotency_key=key,
            status=auth.status,
        )
        return auth

    def void(self, authorization_id: str, key: str | None) -> AuthorizationRecord:
        """Release a hold; voiding a voided authorization changes nothing."""
        auth = self.authorization(authorization_id)
        if auth.status == "voided":
            return auth
        if auth.status != "authorized":
            raise SandboxError(
                409,
                "invalid_state",
                f"cannot void authorization {auth.id}: it is {auth.status}",
                status=auth.status,
            )
        auth.status = "voided"
        self._record(
            kind="void",
            amount_minor=auth.amount_minor,
            currency=auth.currency,
            reference=auth.reference,
            authorization_id=auth.id,
            idempotency_key=key,
            status="voided",
        )
        return auth

    def capture(self, authorization_id: str, amount_minor: int, key: str | None) -> CaptureRecord:
        """Capture up to the authorized amount, once; the rest of the hold is released."""
        auth = self.authorization(authorization_id)
        if auth.status != "authorized":
            raise SandboxError(
                409,
                "invalid_state",
                f"cannot capture authorization {auth.id}: it is {auth.status}",
                status=auth.status,
            )
        if amount_minor > auth.amount_minor:
            raise SandboxError(
                409,
                "amount_too_large",
                f"cannot capture {format_money(amount_minor, auth.currency)}: only "
                f"{format_money(auth.amount_minor, auth.currency)} is authorized",
            )
        auth.status = "captured"
        auth.captured_minor = amount_minor
        capture = self._new_capture(
            amount_minor,
            auth.currency,
            auth.reference,
            authorization_id=auth.id,
            upi_intent_id=None,
            key=key,
        )
        auth.capture_id = capture.id
        return capture

    def capture_upi(
        self, *, intent_id: str, amount_minor: int, currency: str, reference: str
    ) -> CaptureRecord:
        """An approved UPI intent debits the customer at once: a capture without a hold."""
        return self._new_capture(
            amount_minor,
            currency,
            reference,
            authorization_id=None,
            upi_intent_id=intent_id,
            key=None,
        )

    def _new_capture(
        self,
        amount_minor: int,
        currency: str,
        reference: str,
        *,
        authorization_id: str | None,
        upi_intent_id: str | None,
        key: str | None,
    ) -> CaptureRecord:
        capture = CaptureRecord(
            id=new_id("cap"),
            amount_minor=amount_minor,
            currency=currency,
            reference=reference,
            authorization_id=authorization_id,
            upi_intent_id=upi_intent_id,
        )
        self.captures[capture.id] = capture
        self._record(
            kind="capture",
            amount_minor=amount_minor,
            currency=currency,
            reference=reference,
            authorization_id=authorization_id,
            idempotency_key=key,
            status="captured",
            capture_id=capture.id,
            upi_intent_id=upi_intent_id,
        )
        return capture

    def refund(self, capture_id: str, amount_minor: int, key: str | None) -> tuple[str, int]:
        """Refund part or all of what is left of a capture; returns (refund id, amount)."""
        capture = self.capture_record(capture_id)
        refundable = capture.amount_minor - capture.refunded_minor
        if amount_minor > refundable:
            raise SandboxError(
                409,
                "amount_too_large",
                f"cannot refund {format_money(amount_minor, capture.currency)}: only "
                f"{format_money(refundable, capture.currency)} of capture {capture.id} is left "
                "to refund",
            )
        capture.refunded_minor += amount_minor
        refund_id = new_id("ref")
        self._record(
            kind="refund",
            amount_minor=amount_minor,
            currency=capture.currency,
            reference=capture.reference,
            authorization_id=capture.authorization_id,
            idempotency_key=key,
            status="refunded",
            capture_id=capture.id,
            refund_id=refund_id,
            upi_intent_id=capture.upi_intent_id,
        )
        return refund_id, amount_minor

    def settle(self, capture_ids: list[str], key: str | None) -> list[dict[str, Any]]:
        """Pay captures out to the merchant: one settlement entry per capture, net of refunds."""
        captures = [self.capture_record(cid) for cid in capture_ids]
        already = [c.id for c in captures if c.settled]
        if already:
            raise SandboxError(
                409,
                "already_settled",
                f"captures already settled: {', '.join(already)}",
                capture_ids=already,
            )
        settled = []
        for capture in captures:
            capture.settled = True
            net = capture.amount_minor - capture.refunded_minor
            self._record(
                kind="settlement",
                amount_minor=net,
                currency=capture.currency,
                reference=capture.reference,
                authorization_id=capture.authorization_id,
                idempotency_key=key,
                status="settled",
                capture_id=capture.id,
                upi_intent_id=capture.upi_intent_id,
            )
            settled.append(
                {"capture_id": capture.id, "amount_minor": net, "currency": capture.currency}
            )
        return settled
