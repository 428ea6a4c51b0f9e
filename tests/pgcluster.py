"""PostgreSQL clusters of a test's own: initdb in a fresh directory, start, stop, restart,
kill -9 of the postmaster, a streaming standby (synchronous), its promotion.

The suite's shared server (tests/conftest.py) must never be stopped by a test: a test that
restarts or kills PostgreSQL starts its own here. Clusters listen on 127.0.0.1 on a free port
with trust authentication. As root, the server binaries run as the `postgres` user
(`runuser`), which owns the cluster's directory; as anyone else, as that user. `clusters()`
(used by a fixture) stops every cluster it made and removes its directory, whatever the test
did.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from tests.harness import free_port

BIN = Path(os.environ.get("TOTE_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
_AS_ROOT = os.geteuid() == 0
_OWNER = "postgres"


def available() -> str | None:
    """None when clusters can be made here, else why not."""
    if not (BIN / "initdb").exists():
        return f"no PostgreSQL server binaries in {BIN} (set TOTE_TEST_PG_BIN)"
    if _AS_ROOT:
        try:
            pwd.getpwnam(_OWNER)
        except KeyError:
            return "running as root and there is no `postgres` user to run the server as"
    return None


def require() -> None:
    """Skip the test where no cluster can be made (a failure under CI=true)."""
    why = available()
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)


def _run(*args: str, timeout_s: float = 120) -> str:
    cmd = [str(BIN / args[0]), *args[1:]]
    if _AS_ROOT:
        cmd = ["runuser", "-u", _OWNER, "--", *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}):\n"
                           f"{done.stdout}{done.stderr}")
    return done.stdout


@dataclass(eq=False)
class Cluster:
    """One PostgreSQL cluster (a data directory and its postmaster)."""

    root: Path  # owned by the server's user: data/, the socket and the log live here
    port: int
    name: str
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, database: str = "postgres") -> str:
        """An SQLAlchemy URL of one of its databases."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    # -- life -----------------------------------------------------------------------------

    def init(self) -> Cluster:
        _run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
             "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
        self._configure(self.settings)
        return self

    def _configure(self, settings: dict[str, str]) -> None:
        # Appended: a later line wins over the same setting earlier in the file (a standby's
        # copy of its primary's configuration included).
        lines = [f"{k} = '{v}'" for k, v in settings.items()]
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# tests/pgcluster.py\n" + "\n".join(lines) + "\n")

    def start(self, timeout_s: float = 60) -> Cluster:
        _run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w",
             "-t", str(int(timeout_s)), "start", timeout_s=timeout_s + 10)
        return self

    def stop(self, mode: str = "fast", timeout_s: float = 60) -> None:
        """pg_ctl stop (fast: sessions are ended, their transactions rolled back)."""
        if self.pid() is not None:
            _run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", str(int(timeout_s)),
                 "stop", timeout_s=timeout_s + 10)

    def restart(self, mode: str = "fast", timeout_s: float = 60) -> None:
        _run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", mode, "-w",
             "-t", str(int(timeout_s)), "restart", timeout_s=timeout_s + 10)

    def pid(self) -> int | None:
        """The postmaster's pid while it runs."""
        try:
            first = (self.data / "postmaster.pid").read_text().split("\n", 1)[0]
            pid = int(first)
            status = Path(f"/proc/{pid}/status").read_text()
        except (OSError, ValueError):
            return None
        # A killed postmaster whose parent has not reaped it yet is a zombie: not running.
        return None if "\nState:\tZ" in status else pid

    def kill(self, timeout_s: float = 30) -> None:
        """SIGKILL the postmaster, like a machine losing power (its backends exit when they
        notice their postmaster is gone); returns once every one of them has."""
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout_s
        while self._backends_alive():
            if time.monotonic() > deadline:
                raise RuntimeError(f"backends of the killed postmaster {pid} still run")
            time.sleep(0.05)

    def _backends_alive(self) -> bool:
        # Any process whose working directory is the data directory is a server process.
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                with contextlib.suppress(OSError):
                    if os.readlink(proc / "cwd") == str(self.data):
                        return True
        return False

    def promote(self, timeout_s: float = 60) -> None:
        """Promote this standby; returns once it takes writes."""
        _run("pg_ctl", "-D", str(self.data), "-w", "-t", str(int(timeout_s)), "promote",
             timeout_s=timeout_s + 10)

    # -- SQL ------------------------------------------------------------------------------

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.conninfo(database), autocommit=True, connect_timeout=5)

    def sql(self, statement: str, database: str = "postgres") -> list[tuple]:  # type: ignore[type-arg]
        """Run one statement (autocommit) and return its rows (none for a command)."""
        with self.connect(database) as conn:
            cur = conn.execute(statement.encode())
            return cur.fetchall() if cur.description is not None else []

    def create_database(self, name: str) -> str:
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)


class Clusters:
    """The clusters of one test: each in a directory of its own, all removed at the end."""

    def __init__(self) -> None:
        self.made: list[Cluster] = []

    def new(self, name: str = "primary", **settings: str) -> Cluster:
        """A new cluster, initialised and started. Settings go to postgresql.conf."""
        cluster = Cluster(self._root(name), free_port(), name, {
            "listen_addresses": "127.0.0.1", "unix_socket_directories": "",
            "fsync": "off", "max_connections": "100", **settings})
        cluster.settings["port"] = str(cluster.port)
        self.made.append(cluster)
        return cluster.init().start()

    def primary_with_standby(self, **settings: str) -> tuple[Cluster, Cluster]:
        """A primary and a streaming standby of it, synchronous: a commit the primary
        acknowledges is flushed on the standby too (synchronous_commit=on)."""
        primary = self.new("primary", synchronous_standby_names="*", synchronous_commit="on",
                           wal_level="replica", **settings)
        standby = Cluster(self._root("standby"), free_port(), "standby")
        self.made.append(standby)
        _run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
             "-D", str(standby.data), "-R", "-X", "stream", "--checkpoint=fast")
        # The standby's copy of the configuration is the primary's: its own port, and no
        # synchronous standby of its own — promoted, it would otherwise wait for one at every
        # commit, for ever.
        standby._configure({"port": str(standby.port), "synchronous_standby_names": "",
                            "cluster_name": "standby"})
        standby.start()
        deadline = time.monotonic() + 60
        while not primary.sql("SELECT 1 FROM pg_stat_replication WHERE sync_state = 'sync'"):
            if time.monotonic() > deadline:
                raise RuntimeError("the standby did not become synchronous")
            time.sleep(0.1)
        return primary, standby

    def _root(self, name: str) -> Path:
        root = Path(tempfile.mkdtemp(prefix=f"tote-pg-{name}-"))
        if _AS_ROOT:
            shutil.chown(root, _OWNER, _OWNER)
        return root

    def cleanup(self) -> None:
        for cluster in self.made:
            with contextlib.suppress(Exception):
                cluster.stop("immediate")
            pid = cluster.pid()
            if pid is not None:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            shutil.rmtree(cluster.root, ignore_errors=True)


@contextlib.contextmanager
def clusters() -> Iterator[Clusters]:
    """Clusters for one test, stopped and removed however it ends (use in a fixture)."""
    require()
    made = Clusters()
    try:
        yield made
    finally:
        made.cleanup()


@pytest.fixture
def pg_clusters() -> Iterator[Clusters]:
    """Clusters of this test's own (import this fixture into a test module)."""
    with clusters() as made:
        yield made
