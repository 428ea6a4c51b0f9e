"""tote: server/adapters."""
