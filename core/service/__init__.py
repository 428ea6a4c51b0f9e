"""tote: core/service."""
