"""tote: server."""
