"""Fixtures of the sandbox tests: a real sandbox, a webhook receiver, the real adapters."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import stamina

from sandbox import start_sandbox
from server.http_serve import serve_asgi
from tests.integration.sandbox.support import SECRET, WebhookReceiver, _gateway


@pytest.fixture(autouse=True)
def _real_retries():
    # These tests are about retries: no global stamina test mode may cap the attempts.
    with stamina.set_testing(False):
        yield


@pytest.fixture
async def servers():
    rec = WebhookReceiver()
    receiver_server = await serve_asgi(rec.app, "127.0.0.1", 0)
    rec.url = f"{receiver_server.url}/webhooks"
    sb = await start_sandbox("127.0.0.1", 0, notify_url=rec.url, webhook_secret=SECRET)
    yield sb, rec
    # Each uvicorn stop takes ~0.2 s of polling; stopping both at once halves the teardown.
    await asyncio.gather(sb.stop(), receiver_server.stop())


@pytest.fixture
def sandbox(servers):
    return servers[0]


@pytest.fixture
def receiver(servers):
    return servers[1]


@pytest.fixture
async def http(sandbox):
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=5.0) as client:
        yield client


@pytest.fixture
async def gateway(sandbox):
    gw = _gateway(sandbox.url)
    yield gw
    await gw.aclose()
