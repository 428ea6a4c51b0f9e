"""`tote token list`, `tote token revoke` and `tote token create --expires-in/--rate-limit`,
run as the operator runs them (a child process on a SQLite file)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest

from core.persistence import migrate
from tests.unit.test_cli import db_bytes, principal, tote


@pytest.fixture
def db(tmp_path) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "tote.db"
    migrate.upgrade(str(path))
    return path


def create(db: Path, *args: str) -> tuple[str, str]:
    """(record id, secret) of a new token."""
    out = tote("token", "create", "--db", str(db), *args)
    assert out.returncode == 0, out.stderr
    token_id = out.stderr.split("record id ")[1].split(",")[0]
    return token_id, out.stdout.strip()


def listed(db: Path) -> dict[str, dict[str, object]]:
    out = tote("token", "list", "--json", "--db", str(db))
    assert out.returncode == 0, out.stderr
    return {row["token_id"]: row for row in json.loads(out.stdout)}


def test_list_shows_each_token_but_never_its_secret_or_hash(db):
    shop_id, shop = create(db, "--role", "storefront", "--name", "shop-a", "--expires-in", "12h")
    ops_id, ops = create(db, "--role", "supervisor", "--name", "ops", "--rate-limit", "20:40")
    table = tote("token", "list", "--db", str(db))
    as_json = tote("token", "list", "--json", "--db", str(db))
    for out in (table, as_json):
        assert out.returncode == 0, out.stderr
        for secret in (shop, ops):
            assert secret not in out.stdout and secret[-20:] not in out.stdout
        stored = db_bytes(db)
        hashes = [h for h in (hashlib.sha256(s.encode()).hexdigest()
                              for s in (shop, ops)) if h.encode() in stored]
        assert len(hashes) == 2  # (the hashes are in the database …)
        assert not any(h in out.stdout for h in hashes)  # … but never listed
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ID", "ROLE", "NAME", "FC", "CREATED", "EXPIRES", "REVOKED",
                                "RATE"]
    assert any(shop_id in line and "storefront" in line and "shop-a" in line for line in lines)
    rows = listed(db)
    assert rows[shop_id]["role"] == "storefront" and rows[shop_id]["name"] == "shop-a"
    created = datetime.fromisoformat(str(rows[shop_id]["created_at"]))
    expires = datetime.fromisoformat(str(rows[shop_id]["expires_at"]))
    assert (expires - created).total_seconds() == 12 * 3600
    assert rows[shop_id]["revoked_at"] is None and rows[shop_id]["expired"] is False
    assert rows[ops_id]["expires_at"] is None and rows[ops_id]["rate_limit"] == "20:40"


def test_revoke_refuses_the_token_and_revoking_twice_is_fine(db):
    token_id, secret = create(db, "--role", "storefront", "--name", "leaky")
    assert principal(db, secret) is not None
    first = tote("token", "revoke", token_id, "--db", str(db))
    assert first.returncode == 0, first.stderr
    assert principal(db, secret) is None
    assert listed(db)[token_id]["revoked_at"] is not None
    again = tote("token", "revoke", token_id, "--db", str(db))
    assert again.returncode == 0 and "already revoked" in again.stdout


def test_revoking_an_unknown_id_is_a_clear_error(db):
    out = tote("token", "revoke", "tok_NOSUCHTOKEN", "--db", str(db))
    assert out.returncode == 1
    assert "no token 'tok_NOSUCHTOKEN'" in out.stderr and "tote token list" in out.stderr


@pytest.mark.parametrize("spelling", ["3w", "12", "1.5h", "-5m", "0s", "soon"])
def test_a_bad_expiry_is_refused_naming_the_accepted_forms(db, spelling):
    out = tote("token", "create", "--role", "admin", "--expires-in", spelling, "--db", str(db))
    assert out.returncode == 2 and out.stdout == ""
    assert "90s, 15m, 12h or 30d" in out.stderr
    assert listed(db) == {}


@pytest.mark.parametrize("spelling", ["fast", "0", "5:0", "-1", "2:x"])
def test_a_bad_rate_limit_is_refused_naming_the_form(db, spelling):
    out = tote("token", "create", "--role", "admin", "--rate-limit", spelling, "--db", str(db))
    assert out.returncode == 2 and "RPS[:BURST]" in out.stderr
    assert listed(db) == {}


def test_serve_refuses_a_bad_rate_limit_before_starting(tmp_path):
    out = tote("serve", "--db", str(tmp_path / "tote.db"), "--sandbox", "--rate-limit", "lots")
    assert out.returncode == 2 and "RPS[:BURST]" in out.stderr
    assert not (tmp_path / "tote.db").exists()
