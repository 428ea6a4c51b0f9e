"""tote: core/domain."""
