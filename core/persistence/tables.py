"""The tables as SQL Core sees them, for the repositories' statements (core/persistence/repos/).

Only core/persistence builds SQL on tables; services call repositories. `metadata.tables` gives
each as a typed `Table` (a model's `__table__` is typed as any FromClause).
"""

from __future__ import annotations

from sqlalchemy import Table

import core.persistence.fulfillment_models  # noqa: F401  (registers its tables)
import core.persistence.lease_models  # noqa: F401  (registers its table)
import core.persistence.notification_models  # noqa: F401  (registers its tables)
import core.persistence.outbox_models  # noqa: F401  (registers its table)
import core.persistence.webhook_models  # noqa: F401  (registers its tables)
from core.persistence.models import Base

_TABLES = Base.metadata.tables


def _table(name: str) -> Table:
    return _TABLES[name]


PRODUCTS = _table("products")
FULFILLMENT_CENTERS = _table("fulfillment_centers")
STOCK_LEVELS = _table("stock_levels")
ORDERS = _table("orders")
ORDER_LINES = _table("order_lines")
SOFT_LOCKS = _table("soft_locks")
ORDER_EVENTS = _table("order_events")
WEBHOOK_RECEIPTS = _table("webhook_receipts")
API_TOKENS = _table("api_tokens")
ROUTING_DECISIONS = _table("routing_decisions")
SHIPMENTS = _table("shipments")
PICK_TASKS = _table("pick_tasks")
PICK_LINES = _table("pick_lines")
SCANS = _table("scans")
MANIFESTS = _table("manifests")
TRACKING_EVENTS = _table("tracking_events")
COD_REMITTANCES = _table("cod_remittances")
COD_REMITTANCE_PARCELS = _table("cod_remittance_parcels")
WORKER_LEASES = _table("worker_leases")
NOTIFICATION_MESSAGES = _table("notification_messages")
NOTIFICATION_PREFERENCES = _table("notification_preferences")
WEBHOOK_ENDPOINTS = _table("webhook_endpoints")
WEBHOOK_DELIVERIES = _table("webhook_deliveries")
WEBHOOK_ATTEMPTS = _table("webhook_attempts")
OUTBOX_POSITIONS = _table("outbox_positions")
