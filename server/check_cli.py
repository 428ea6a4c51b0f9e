"""`tote check`: verify the whole database's invariants (stock, money, states, locks)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from core.domain.words import count
from core.persistence.db import Database, normalize_url
from core.service import check as invariants


@click.command()
@click.option("--db", "db_url", envvar="TOTE_DB",
              help="database URL or SQLite file path (default ./tote.db; env TOTE_DB)")
def check(db_url: str | None) -> None:
    """Verify stock, money, order states and locks; exit 1 and list each finding if any."""
    url = normalize_url(db_url)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        raise click.BadParameter(f"no database at {url[len('sqlite:///'):]}", param_hint="--db")
    db = Database(url)
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        found = db.run_read(invariants.findings)
    except OperationalError as exc:  # no tote schema there, or no server
        raise click.ClickException(f"cannot check {shown}: {exc.orig}") from None
    finally:
        db.dispose()
    for finding in found:
        click.echo(finding)
    if found:
        click.echo(f"tote check: {count(len(found), 'finding')} in {shown}", err=True)
        sys.exit(1)
    click.echo(f"tote check: {shown} is consistent")
