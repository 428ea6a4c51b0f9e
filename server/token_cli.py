"""`tote token ...`: create, list and revoke API tokens (straight on the database)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import click

DB_HELP = "database URL or SQLite file path (default ./tote.db; env TOTE_DB)"
T = TypeVar("T")


def _duration(ctx: click.Context, param: click.Parameter, value: str | None
              ) -> timedelta | None:
    from core.service.tokens import parse_duration

    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def rate_limit_option(ctx: click.Context, param: click.Parameter, value: str | None
                      ) -> tuple[float, int] | None:
    """A click callback: RPS[:BURST] or off → (calls/s, burst)."""
    from core.service.tokens import parse_rate_limit

    if value is None or value == "":
        return None
    try:
        return parse_rate_limit(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group()
def token() -> None:
    """API tokens (bearer tokens, stored hashed): create, list, revoke."""


def _on_db(db_url: str | None, work: Callable[[Any], T], write: bool) -> T:
    from core.domain.errors import DomainError
    from core.persistence import migrate
    from core.persistence.db import Database

    database = Database(db_url)
    try:
        if database.is_sqlite:
            migrate.upgrade(database.url)
        return (database.run_write if write else database.run_read)(work)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        database.dispose()


@token.command("create")
@click.option("--role", required=True,
              type=click.Choice(["storefront", "picker", "supervisor", "carrier", "admin"]))
@click.option("--name", default="", help="who holds it; a storefront's orders are scoped by it")
@click.option("--fc", "fc_id", default="", help="a picker token works at this FC only")
@click.option("--expires-in", callback=_duration, metavar="DURATION",
              help="refused after this long: 90s, 15m, 12h or 30d (default: never)")
@click.option("--rate-limit", callback=rate_limit_option, metavar="RPS[:BURST]|off",
              help="this token's own rate limit, over tote serve's --rate-limit "
                   "(off: never limited)")
@click.option("--db", "db_url", envvar="TOTE_DB", help=DB_HELP)
def token_create(role, name, fc_id, expires_in, rate_limit, db_url):
    """Create a token; stdout is the token alone (one line, shown once), the rest is stderr."""
    from core.domain.errors import DomainError, NotFound
    from core.persistence import migrate
    from core.persistence.db import Database
    from core.service.catalog import list_fcs
    from core.service.tokens import create_token

    database = Database(db_url)
    try:
        if database.is_sqlite:
            migrate.upgrade(database.url)
        token_id, secret = database.run_write(
            lambda s: create_token(s, role, name, fc_id, expires_in, rate_limit))
    except NotFound:
        # `P=$(tote token create … | tail -1)` would be silently empty: say why and what to do.
        known = database.run_read(lambda s: [fc.fc_id for fc in list_fcs(s)])
        raise click.ClickException(
            f"no fulfillment center {fc_id!r}, so no token was created. Create the FC first "
            "(FulfillmentService/UpsertFulfillmentCenter with a supervisor or admin token, as "
            "in the README's 'Calling the API'), then run this again; without --fc a picker "
            "token works at every FC. "
            + (f"Known FCs: {', '.join(known)}." if known else "There is no FC yet.")
        ) from None
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        database.dispose()
    # The record id is labelled so that nobody pastes it as a credential (or as a card token,
    # whose ids look alike); the bearer token is the tote_… line on stdout.
    click.echo(f"created {role} token" + (f" {name!r}" if name else "")
               + (f" for {fc_id}" if fc_id else "")
               + (f", expiring in {expires_in.total_seconds():g} s" if expires_in else "")
               + f" (record id {token_id}, not a credential); the bearer token, shown once, "
               "is the tote_… line on stdout", err=True)
    click.echo(secret)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else ""


@token.command("list")
@click.option("--json", "as_json", is_flag=True, help="one JSON array, for scripts")
@click.option("--db", "db_url", envvar="TOTE_DB", help=DB_HELP)
def token_list(as_json, db_url):
    """Every token: record id, role, name, FC, created, expiry, revoked, rate limit (never the
    secret or its hash)."""
    from core.persistence.models import utcnow
    from core.service.tokens import list_tokens

    rows = _on_db(db_url, list_tokens, write=False)
    now = utcnow()
    for row in rows:
        expires = row["expires_at"]
        row["expired"] = isinstance(expires, datetime) and expires <= now
        for key in ("created_at", "expires_at", "revoked_at"):
            row[key] = _when(row[key]) or None
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    head = ("ID", "ROLE", "NAME", "FC", "CREATED", "EXPIRES", "REVOKED", "RATE")
    table = [head] + [(
        str(r["token_id"]), str(r["role"]), str(r["name"]), str(r["fc_id"] or "-"),
        str(r["created_at"]),
        (str(r["expires_at"]) + (" (expired)" if r["expired"] else "")) if r["expires_at"]
        else "never",
        str(r["revoked_at"] or "-"), str(r["rate_limit"] or "default")) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(head))]
    for line in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
                   .rstrip())
    if not rows:
        click.echo("(no tokens yet: `tote token create --role ROLE`)", err=True)


@token.command("revoke")
@click.argument("token_id")
@click.option("--db", "db_url", envvar="TOTE_DB", help=DB_HELP)
def token_revoke(token_id, db_url):
    """Revoke a token by its record id (tok_…): every replica refuses it within a second."""
    from core.service.tokens import revoke_token

    when, already = _on_db(db_url, lambda s: revoke_token(s, token_id.strip()), write=True)
    click.echo(f"token {token_id} {'was already' if already else 'is'} revoked "
               f"(at {_when(when)}); tote serve refuses it within a second")
