"""`tote token create`: the token is printed once, as the last line, and stored only hashed."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from core.persistence import migrate
from core.persistence.db import Database
from core.service.catalog import FcData, upsert_fc
from core.service.tokens import authenticate
from tests.harness import ROOT


def tote(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def db_bytes(db: Path) -> bytes:
    """The SQLite file and its write-ahead log, where recent commits may still live."""
    return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal")) if p.exists())


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """A migrated SQLite file with one fulfillment center, FC-BLR."""
    path = tmp_path_factory.mktemp("cli") / "tote.db"
    migrate.upgrade(str(path))
    database = Database(str(path))
    try:
        database.run_write(lambda s: upsert_fc(s, FcData("FC-BLR", "Bengaluru", 12.97, 77.59,
                                                         16, 1000, {})))
    finally:
        database.dispose()
    return path


def principal(db: Path, token: str):  # type: ignore[no-untyped-def]
    database = Database(str(db))
    try:
        return database.run_read(lambda s: authenticate(s, token))
    finally:
        database.dispose()


def test_token_create_prints_the_token_last_and_stores_only_its_sha256(db):
    out = tote("token", "create", "--role", "storefront", "--name", "shop-a", "--db", str(db))
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip().splitlines()[-1]
    assert len(token) >= 32 and " " not in token
    digest = hashlib.sha256(token.encode()).hexdigest()
    stored = db_bytes(db)
    assert digest.encode() in stored
    assert token.encode() not in stored
    # not its tail either (the random part without the prefix)
    assert token.encode()[-24:] not in stored
    who = principal(db, token)
    assert (who.role, who.name, who.fc_id) == ("storefront", "shop-a", None)


def test_two_tokens_are_different_and_each_authenticates_as_its_role(db):
    a = tote("token", "create", "--role", "supervisor", "--db", str(db))
    b = tote("token", "create", "--role", "supervisor", "--db", str(db))
    ta, tb = (r.stdout.strip().splitlines()[-1] for r in (a, b))
    assert ta != tb
    assert principal(db, ta).role == principal(db, tb).role == "supervisor"
    assert principal(db, ta + "x") is None


def test_a_picker_token_for_a_known_fc_is_scoped_to_it(db):
    out = tote("token", "create", "--role", "picker", "--fc", "FC-BLR", "--db", str(db))
    assert out.returncode == 0, out.stderr
    who = principal(db, out.stdout.strip().splitlines()[-1])
    assert (who.role, who.fc_id) == ("picker", "FC-BLR")


@pytest.mark.parametrize("role", ["root", "Admin", ""])
def test_a_role_that_does_not_exist_is_refused_listing_the_roles(db, role):
    before = db_bytes(db)
    out = tote("token", "create", "--role", role, "--db", str(db))
    assert out.returncode == 2
    assert out.stdout == ""
    for name in ("storefront", "picker", "supervisor", "carrier", "admin"):
        assert name in out.stderr
    assert db_bytes(db).count(b"tok_") == before.count(b"tok_")


def test_an_unknown_fc_is_refused_with_a_clear_message(db):
    out = tote("token", "create", "--role", "picker", "--fc", "FC-NOWHERE", "--db", str(db))
    assert out.returncode == 1
    assert out.stdout == ""
    assert "no fulfillment center 'FC-NOWHERE'" in out.stderr
    assert "Traceback" not in out.stderr


def test_an_unknown_fc_says_no_token_was_made_and_how_to_create_the_fc(db):
    before = db_bytes(db).count(b"tok_")
    out = tote("token", "create", "--role", "picker", "--fc", "FC-X", "--db", str(db))
    assert (out.returncode, out.stdout) == (1, "")
    assert "no token was created" in out.stderr
    assert "UpsertFulfillmentCenter" in out.stderr and "Known FCs: FC-BLR." in out.stderr
    assert db_bytes(db).count(b"tok_") == before
    # The README's form: with the token alone on stdout no `| tail -1` hides the exit status.
    shell = subprocess.run(
        ["sh", "-c", 'P=$("$@") || { echo "exit $?, P=[$P]"; exit 0; }; echo "made $P"', "sh",
         sys.executable, "-m", "server", "token", "create", "--role", "picker", "--fc", "FC-X",
         "--db", str(db)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert shell.stdout == "exit 1, P=[]\n"
    assert "no fulfillment center 'FC-X'" in shell.stderr


def test_stdout_is_the_bearer_token_alone_and_the_record_id_is_labelled_on_stderr(db):
    out = tote("token", "create", "--role", "picker", "--name", "hh-07", "--fc", "FC-BLR",
               "--db", str(db))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tote_")
    assert principal(db, lines[0]).name == "hh-07"
    # The record id (tok_…, like the gateway's card tokens) is never where the secret goes,
    # and is said not to be one.
    assert "tok_" not in out.stdout
    assert "record id tok_" in out.stderr and "not a credential" in out.stderr
    assert lines[0] not in out.stderr and "'hh-07'" in out.stderr and "FC-BLR" in out.stderr


def test_token_create_on_a_new_sqlite_file_migrates_it_first(tmp_path):
    db = tmp_path / "fresh.db"
    out = tote("token", "create", "--role", "admin", "--db", str(db))
    assert out.returncode == 0, out.stderr
    assert principal(db, out.stdout.strip().splitlines()[-1]).role == "admin"
