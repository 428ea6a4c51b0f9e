"""What the servicers and workers of one `tote serve` share (built by server/app.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.adapters.carrier import CarrierClient
from server.adapters.gateway import PaymentGateway
from server.dbexec import DbExecutor
from server.hub import EventHub
from server.saga import SagaRunner
from server.settings import Settings

if TYPE_CHECKING:
    from server.packing import Packer


@dataclass
class ServerContext:
    dbx: DbExecutor
    saga: SagaRunner
    hub: EventHub
    settings: Settings
    gateway: PaymentGateway
    carrier: CarrierClient
    # Packing's outside calls and its resume worker (set by server/app.py).
    packer: Packer | None = None
