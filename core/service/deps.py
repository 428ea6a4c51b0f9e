"""What command handlers need besides the command: the deployment's rules and per-process caches.

A `Deps` is made once per process that runs handlers (the server's writer thread or the SQLite
writer's own process) from the server's `HandlerConfig`: commands then carry only what differs
from one call to the next, and no handler reads a process-global switched on by a flag.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.service.orders import OrderSettings
from core.service.routing import DEFAULT_RULES, BacklogCache, RoutingRules


@dataclass(frozen=True, slots=True)
class HandlerConfig:
    """The server's settings that handlers read (plain values: it crosses to the writer)."""

    orders: OrderSettings = field(default_factory=OrderSettings)
    routing: RoutingRules = DEFAULT_RULES
    # Table consumers beyond core/service/outbox.py's TABLE_CONSUMERS, as (name,
    # "module:function"): found by import in whichever process runs the handlers.
    extra_consumers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Deps:
    """One process's handler dependencies."""

    config: HandlerConfig = field(default_factory=HandlerConfig)
    # The saga routes hundreds of orders a second: the FCs' backlog is counted at most once
    # a second in each process (routing.BacklogCache), not afresh per order.
    backlog: BacklogCache = field(default_factory=BacklogCache)

    @classmethod
    def for_process(cls, config: HandlerConfig) -> Deps:
        return cls(config=config, backlog=BacklogCache())
