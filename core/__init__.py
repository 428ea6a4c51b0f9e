"""tote: core."""
