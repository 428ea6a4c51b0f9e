"""tote: desktop."""
