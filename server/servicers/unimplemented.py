"""The answer of an RPC whose feature is not built yet."""

from __future__ import annotations

import grpc

LATER = "is not built yet (the fulfillment issue brings it)"


async def unimplemented(context, name: str):  # type: ignore[no-untyped-def]
    await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{name} {LATER}")
