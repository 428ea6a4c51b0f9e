"""tote: terminals."""
