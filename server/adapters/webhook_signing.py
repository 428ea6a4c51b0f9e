"""Stripe-style webhook signatures: ``Tote-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``.

The HMAC covers ``f"{t}."`` followed by the exact raw request body, so a receiver must verify the
bytes it received before parsing them; the timestamp bounds how long a captured webhook can be
replayed.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Tote-Signature"
DEFAULT_TOLERANCE_S = 300


class WebhookSignatureError(Exception):
    """A webhook whose signature cannot be trusted; `reason` says what to check."""

    def __init__(self, reason: str, *, code: str = "invalid") -> None:
        super().__init__(reason)
        self.reason = reason
        # Stable machine-readable kind: missing, malformed, mismatch, too_old, in_future.
        self.code = code


def _mac(secret: bytes, body: bytes, timestamp: int) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """Return the Tote-Signature header value for body sent at timestamp (unix seconds)."""
    return f"t={timestamp},v1={_mac(secret, body, timestamp)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            if not (value.isascii() and value.isdigit()):
                raise WebhookSignatureError(
                    f"malformed {SIGNATURE_HEADER} header: t={value!r} is not unix seconds",
                    code="malformed",
                )
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value.lower())
    if timestamp is None or not signatures:
        raise WebhookSignatureError(
            f"malformed {SIGNATURE_HEADER} header: expected 't=<unix seconds>,v1=<hex hmac>'",
            code="malformed",
        )
    return timestamp, signatures


def verify(
    secret: bytes,
    header: str | None,
    body: bytes,
    *,
    now: float,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> int:
    """Check header against the raw body; return its timestamp or raise WebhookSignatureError."""
    if not header or not header.strip():
        raise WebhookSignatureError(
            f"missing {SIGNATURE_HEADER} header: the sender did not sign this request",
            code="missing",
        )
    timestamp, signatures = _parse(header)
    expected = _mac(secret, body, timestamp)
    # Several v1 values are allowed so a sender can sign with old and new secret while rotating.
    # compare_digest on every candidate: no early exit that would leak timing.
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected.encode(), candidate.encode())
    if not matched:
        raise WebhookSignatureError(
            "signature mismatch: the body was altered in transit or the webhook secret differs "
            "from the sender's",
            code="mismatch",
        )
    # Checked after the HMAC so the reported age is that of a genuinely signed timestamp.
    age = now - timestamp
    if age > tolerance_s:
        raise WebhookSignatureError(
            f"timestamp too old: signed {int(age)}s ago, tolerance is {tolerance_s}s "
            "(a replayed webhook, or a clock out of sync)",
            code="too_old",
        )
    if -age > tolerance_s:
        raise WebhookSignatureError(
            f"timestamp in the future: {int(-age)}s ahead, tolerance is {tolerance_s}s "
            "(the sender's clock is out of sync)",
            code="in_future",
        )
    return timestamp
