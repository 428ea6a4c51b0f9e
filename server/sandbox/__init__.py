"""tote: server/sandbox."""
