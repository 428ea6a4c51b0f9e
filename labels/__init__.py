"""tote: labels."""
