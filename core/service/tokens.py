"""API tokens: random secrets shown once, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.domain.errors import InvalidArgument, NotFound
from core.domain.ids import new_id
from core.persistence.models import ApiToken, FulfillmentCenter, utcnow

ROLES = ("storefront", "picker", "supervisor", "carrier", "admin")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's name (a storefront's id), role and FC scope."""

    token_id: str
    name: str
    role: str
    fc_id: str | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, role: str, name: str, fc_id: str | None) -> tuple[str, str]:
    """Create a token; returns (token_id, the secret token — shown once, never stored)."""
    if role not in ROLES:
        raise InvalidArgument(f"role must be one of {', '.join(ROLES)}, got {role!r}",
                              field="role")
    if fc_id and session.get(FulfillmentCenter, fc_id) is None:
        raise NotFound(f"no fulfillment center {fc_id!r}: create it before scoping a token to it")
    token_id = new_id("tok")
    secret = "tote_" + secrets.token_urlsafe(32)
    session.add(ApiToken(token_id=token_id, token_hash=hash_token(secret),
                         name=name or f"{role}-{token_id[-6:].lower()}", role=role,
                         fc_id=fc_id or None, created_at=utcnow()))
    return token_id, secret


def authenticate(session: Session, token: str) -> Principal | None:
    """The principal of a live token, or None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token),
                                                ApiToken.revoked_at.is_(None)))
    if row is None:
        return None
    return Principal(row.token_id, row.name, row.role, row.fc_id)
