"""tote: core/persistence."""
