"""Everything the sandbox remembers, in memory only: a restart starts from nothing."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from .cards import CardVault
from .carrier import ShipmentBook
from .faults import FaultBook
from .idempotency import IdempotencyStore
from .ledger import Ledger
from .notifier import Notifier
from .sms import SmsOutbox
from .upi import UpiRegistry


class SandboxState:
    """The sandbox's books (cards, ledger, UPI intents, shipments) and its knobs."""

    def __init__(
        self,
        *,
        webhook_secret: bytes,
        notify_url: str | None = None,
        latency_ms: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        # Every route but the /v1/sandbox/ controls sleeps this long before answering.
        self.latency_ms = latency_ms
        self.faults = FaultBook()
        # Per "METHOD path" of the gateway and carrier routes (GET /v1/sandbox/requests): how
        # many requests came, and the most in flight at once — how often each parcel was
        # polled and each settlement sent, and whether two callers did it at the same time,
        # which a ledger does not show.
        self.requests: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.peak_in_flight: Counter[str] = Counter()
        self.idempotency = IdempotencyStore()
        self.cards = CardVault()
        self.ledger = Ledger(clock)
        self.upi = UpiRegistry()
        self.shipments = ShipmentBook()
        self.sms = SmsOutbox()
        self.notifier = Notifier(
            notify_url=notify_url, secret=webhook_secret, clock=clock, faults=self.faults
        )
