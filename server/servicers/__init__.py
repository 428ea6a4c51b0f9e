"""tote: server/servicers."""
