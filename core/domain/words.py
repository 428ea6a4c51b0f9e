"""Counted nouns as people write them in the event history, the demo and the CLI."""


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`count(1, "unit")` is "1 unit", `count(2, "batch", "batches")` "2 batches"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
