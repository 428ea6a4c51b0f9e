"""API tokens (core/service/tokens.py): ORM models, found by hash or id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.persistence.models import ApiToken, FulfillmentCenter


def add(session: Session, token: ApiToken) -> None:
    session.add(token)


def by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))


def by_id(session: Session, token_id: str) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def oldest_first(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at,
                                                          ApiToken.token_id)))


def revocations(session: Session) -> tuple[int, datetime | None]:
    """(how many tokens are revoked, the latest revocation)."""
    count, latest = session.execute(
        select(func.count(ApiToken.revoked_at), func.max(ApiToken.revoked_at))).one()
    return int(count), latest


def revoked_ids(session: Session) -> set[str]:
    return set(session.scalars(select(ApiToken.token_id)
                               .where(ApiToken.revoked_at.is_not(None))))


def fc_exists(session: Session, fc_id: str) -> bool:
    return session.get(FulfillmentCenter, fc_id) is not None
