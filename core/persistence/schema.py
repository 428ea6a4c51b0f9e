"""Every table of tote, for Alembic and the checks that compare it with the database."""

from core.persistence import (
    fulfillment_models,
    lease_models,
    models,
    notification_models,
    outbox_models,
    webhook_models,
)

metadata = models.Base.metadata
__all__ = ["fulfillment_models", "lease_models", "metadata", "models", "notification_models",
           "outbox_models", "webhook_models"]
