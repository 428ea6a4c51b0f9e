"""What the servicers and workers of one `tote serve` share (built by server/app.py)."""

from __future__ import annotations

from dataclasses import dataclass

from server.adapters.carrier import CarrierClient
from server.adapters.gateway import PaymentGateway
from server.dbexec import DbExecutor
from server.hub import EventHub
from server.saga import SagaRunner
from server.settings import Settings


@dataclass
class ServerContext:
    dbx: DbExecutor
    saga: SagaRunner
    hub: EventHub
    settings: Settings
    gateway: PaymentGateway
    carrier: CarrierClient
