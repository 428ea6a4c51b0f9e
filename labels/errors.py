"""Errors raised by the labels package: bad input is refused before anything is drawn."""

from __future__ import annotations


class LabelError(ValueError):
    """Base class: a label or document could not be produced."""


class LabelDataError(LabelError):
    """A field of the input cannot go on a label; `field` names it (e.g. ``ship_to.line1``)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class UnreadableBarcodeError(LabelError):
    """A drawn barcode did not read back as its input, so the document must not be printed."""

    def __init__(self, document: str, expected: list[tuple[str, str]], read: list[tuple[str, str]]):
        missing = [e for e in expected if e not in read]
        super().__init__(
            f"{document}: barcode(s) did not read back after rendering: "
            + ", ".join(f"{sym} {data!r}" for sym, data in missing)
            + f" (read: {read!r})"
        )
        self.document = document
        self.expected = expected
        self.read = read
