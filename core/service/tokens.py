"""API tokens: random secrets shown once, stored only as their SHA-256; expiry, revocation and a
rate limit of their own."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from core.domain.errors import InvalidArgument, NotFound
from core.domain.ids import new_id
from core.persistence.models import ApiToken, utcnow
from core.persistence.repos import tokens as repo

ROLES = ("storefront", "picker", "supervisor", "carrier", "admin")
DURATION_FORMS = "a number and a unit: 90s, 15m, 12h or 30d"
RATE_FORMS = "RPS[:BURST], e.g. 20 or 20:40 (calls a second, and how many may come at once)"
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's name (a storefront's id), role and FC scope."""

    token_id: str
    name: str
    role: str
    fc_id: str | None


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """What auth needs of a token, revoked or expired ones too (to say which)."""

    principal: Principal
    expires_at: datetime | None
    revoked_at: datetime | None
    # (calls/s, burst) of its own; None: the server's default; (0, 0): never limited.
    rate_limit: tuple[float, int] | None


def parse_duration(text: str) -> timedelta:
    """'90s', '15m', '12h', '30d' → a timedelta; ValueError naming the accepted forms."""
    m = _DURATION.match(text or "")
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration: use {DURATION_FORMS}")
    return timedelta(seconds=int(m.group(1)) * _UNIT_S[m.group(2)])


def parse_rate_limit(text: str) -> tuple[float, int]:
    """'RPS[:BURST]' → (calls/s, burst); 'off' → (0, 0), never limited. BURST defaults to
    RPS rounded up (at least 1)."""
    value = (text or "").strip().lower()
    if value == "off":
        return 0.0, 0
    rps_text, _, burst_text = value.partition(":")
    try:
        rps = float(rps_text)
        burst = int(burst_text) if burst_text else max(1, math.ceil(rps))
    except ValueError:
        raise ValueError(f"{text!r} is not a rate limit: use {RATE_FORMS}, or off") from None
    if not (0 < rps < 1e9 and math.isfinite(rps)) or burst < 1:
        raise ValueError(f"{text!r} is not a rate limit: RPS must be above 0 and BURST at "
                         f"least 1 ({RATE_FORMS}), or off")
    return rps, burst


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, role: str, name: str, fc_id: str | None,
                 expires_in: timedelta | None = None,
                 rate_limit: tuple[float, int] | None = None) -> tuple[str, str]:
    """Create a token; returns (token_id, the secret token — shown once, never stored)."""
    if role not in ROLES:
        raise InvalidArgument(f"role must be one of {', '.join(ROLES)}, got {role!r}",
                              field="role")
    if fc_id and not repo.fc_exists(session, fc_id):
        raise NotFound(f"no fulfillment center {fc_id!r}: create it before scoping a token to it")
    token_id = new_id("tok")
    secret = "tote_" + secrets.token_urlsafe(32)
    now = utcnow()
    repo.add(session, ApiToken(
        token_id=token_id, token_hash=hash_token(secret),
        name=name or f"{role}-{token_id[-6:].lower()}", role=role, fc_id=fc_id or None,
        created_at=now, expires_at=now + expires_in if expires_in else None,
        rate_limit_rps=rate_limit[0] if rate_limit else None,
        rate_limit_burst=rate_limit[1] if rate_limit else None))
    return token_id, secret


def lookup_token(session: Session, token: str) -> TokenRecord | None:
    """The token's record, revoked or expired too; None for a token tote never made."""
    row = repo.by_hash(session, hash_token(token))
    if row is None:
        return None
    rate = (None if row.rate_limit_rps is None
            else (row.rate_limit_rps, row.rate_limit_burst or 0))
    return TokenRecord(Principal(row.token_id, row.name, row.role, row.fc_id),
                       row.expires_at, row.revoked_at, rate)


def authenticate(session: Session, token: str) -> Principal | None:
    """The principal of a live token (neither revoked nor expired), or None."""
    record = lookup_token(session, token)
    if record is None or record.revoked_at is not None:
        return None
    if record.expires_at is not None and record.expires_at <= utcnow():
        return None
    return record.principal


def list_tokens(session: Session) -> list[dict[str, object]]:
    """Every token, oldest first: what it is, never its secret or hash."""
    rows = repo.oldest_first(session)
    return [{"token_id": r.token_id, "role": r.role, "name": r.name, "fc_id": r.fc_id,
             "created_at": r.created_at, "expires_at": r.expires_at,
             "revoked_at": r.revoked_at,
             "rate_limit": (None if r.rate_limit_rps is None
                            else "off" if r.rate_limit_rps == 0
                            else f"{r.rate_limit_rps:g}:{r.rate_limit_burst}")}
            for r in rows]


def revoke_token(session: Session, token_id: str) -> tuple[datetime, bool]:
    """Revoke the token; returns (when it was revoked, whether it already was)."""
    row = repo.by_id(session, token_id)
    if row is None:
        raise NotFound(f"no token {token_id!r}: `tote token list` shows the record ids (tok_…)")
    if row.revoked_at is not None:
        return row.revoked_at, True
    row.revoked_at = utcnow()
    return row.revoked_at, False


def revocation_mark(session: Session) -> tuple[int, datetime | None]:
    """Changes whenever a token is revoked (a revocation is never undone, so the count only
    grows): what each replica polls to drop revoked tokens from its cache."""
    return repo.revocations(session)


def revoked_ids(session: Session) -> set[str]:
    return repo.revoked_ids(session)
