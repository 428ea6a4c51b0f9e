"""Routes that steer or inspect the sandbox: faults, latency, ledger, webhooks, health."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .wire import SandboxError, error_response, json_response, read_json, require_int


async def arm_fault(request: Request) -> Response:
    """POST /v1/sandbox/faults — arm a fault for the next `count` matching requests."""
    state = request.app.state.sandbox
    try:
        fault = state.faults.arm(await read_json(request))
    except SandboxError as error:
        return error_response(error)
    return json_response(200, {"fault": fault.public()})


async def list_faults(request: Request) -> Response:
    """GET /v1/sandbox/faults — the faults still armed."""
    faults = request.app.state.sandbox.faults.armed()
    return json_response(200, {"faults": [f.public() for f in faults]})


async def clear_faults(request: Request) -> Response:
    """DELETE /v1/sandbox/faults — disarm every fault."""
    request.app.state.sandbox.faults.clear()
    return json_response(200, {"faults": []})


async def set_latency(request: Request) -> Response:
    """POST /v1/sandbox/latency {"ms"} — every gateway/carrier route sleeps that long first."""
    state = request.app.state.sandbox
    try:
        state.latency_ms = require_int(await read_json(request), "ms", minimum=0)
    except SandboxError as error:
        return error_response(error)
    return json_response(200, {"ms": state.latency_ms})


async def ledger(request: Request) -> Response:
    """GET /v1/ledger[?reference=] — every money operation performed, oldest first."""
    reference = request.query_params.get("reference")
    entries = request.app.state.sandbox.ledger.public_entries(reference)
    return json_response(200, {"entries": entries})


async def requests(request: Request) -> Response:
    """GET /v1/sandbox/requests — per "METHOD path": requests so far and the most in flight
    at once (read-only)."""
    state = request.app.state.sandbox
    return json_response(200, {"requests": dict(state.requests),
                               "peak_in_flight": dict(state.peak_in_flight)})


async def webhooks(request: Request) -> Response:
    """GET /v1/sandbox/webhooks — each event sent (or not) and how its delivery went."""
    return json_response(200, {"webhooks": request.app.state.sandbox.notifier.deliveries})


async def get_authorization(request: Request) -> Response:
    """GET /v1/authorizations/{authorization_id} — an authorization's current state."""
    try:
        auth = request.app.state.sandbox.ledger.authorization(
            request.path_params["authorization_id"]
        )
    except SandboxError as error:
        return error_response(error)
    return json_response(200, auth.public())


async def get_capture(request: Request) -> Response:
    """GET /v1/captures/{capture_id} — a capture with what was refunded and settled."""
    try:
        capture = request.app.state.sandbox.ledger.capture_record(request.path_params["capture_id"])
    except SandboxError as error:
        return error_response(error)
    return json_response(200, capture.public())


async def healthz(request: Request) -> Response:
    """GET /healthz — the sandbox is up."""
    return json_response(200, {"status": "ok"})
