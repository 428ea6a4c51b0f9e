"""`tote serve` with the test table consumer (tests/outbox_consumer.py) added:
`python -m tests.outbox_serve serve ...`, as ToteServer(module="tests.outbox_serve")."""

from __future__ import annotations

from dataclasses import replace

import server.cli as cli
from server.settings import Settings
from tests.outbox_consumer import SPEC

_serve = cli._serve


async def _with_test_consumer(settings: Settings) -> None:
    await _serve(replace(settings, extra_consumers=(*settings.extra_consumers, SPEC)))


if __name__ == "__main__":
    cli._serve = _with_test_consumer
    cli.cli()
