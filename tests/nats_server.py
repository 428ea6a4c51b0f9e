"""A real `nats-server -js` (Debian's) on a free port with a store directory of its own, for
the tests and benchmarks that stop and restart the broker; and reading its stream back."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats

from tests.harness import free_port


@dataclass(eq=False)
class NatsServer:
    store: Path
    user: str | None = None
    password: str | None = None
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f"{self.user}:{self.password}@" if self.user else ""
        return f"nats://{auth}127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        cmd = ["nats-server", "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd",
               str(self.store)]
        if self.user:
            cmd += ["--user", self.user, "--pass", str(self.password)]
        with (self.store.parent / f"nats-{self.port}.log").open("ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                assert self.proc.poll() is None, "nats-server exited"
                assert time.monotonic() < deadline, "nats-server did not listen"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
        self.proc = None


def stream_messages(url: str, stream: str = "TOTE_EVENTS") -> list[Any]:
    """Every message of the stream, in stream order, read by a JetStream consumer."""

    async def read() -> list[Any]:
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            try:
                count = (await js.stream_info(stream)).state.messages
            except nats.js.errors.NotFoundError:
                return []
            sub = await js.pull_subscribe("tote.v1.events.>", stream=stream)
            out: list[Any] = []
            while len(out) < count:
                for msg in await sub.fetch(min(256, count - len(out)), timeout=10):
                    await msg.ack()
                    out.append(msg)
            await sub.unsubscribe()
            return out
        finally:
            await nc.close()

    return asyncio.run(read())


def stream_count(url: str, stream: str = "TOTE_EVENTS") -> int:
    async def count() -> int:
        nc = await nats.connect(url)
        try:
            try:
                return int((await nc.jetstream().stream_info(stream)).state.messages)
            except nats.js.errors.NotFoundError:
                return 0
        finally:
            await nc.close()

    return asyncio.run(count())
