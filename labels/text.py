"""Fit text into a box: wrap at spaces, shrink to a floor size, then cut with an ellipsis.

Layout is separate from drawing so tests can check every line's box against the label.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from labels import fonts
from labels.spec import Box

ELLIPSIS = "…"
_VIRAMA_OR_JOINER = frozenset("\u094d\u200c\u200d")


@dataclass(frozen=True)
class Para:
    """A paragraph to fit: its text, the size it wants, and the smallest size it accepts."""

    text: str
    size: float
    bold: bool = False
    min_size: float = 5.0


@dataclass(frozen=True)
class Line:
    """One placed line: baseline at (x, y)."""

    text: str
    x: float
    y: float
    size: float
    bold: bool
    width: float
    ascent: float
    descent: float

    @property
    def box(self) -> Box:
        """The line's ink bounds per the font's ascent and descent."""
        return Box(self.x, self.y - self.descent, self.width, self.ascent + self.descent)


def _can_break_before(text: str, i: int) -> bool:
    # Never split a syllable: not before a matra/sign, not after a virama or joiner.
    return (
        not unicodedata.category(text[i]).startswith("M") and text[i - 1] not in _VIRAMA_OR_JOINER
    )


def _split_long(word: str, width: float, size: float, bold: bool) -> list[str]:
    pieces, start = [], 0
    for i in range(1, len(word) + 1):
        if i < len(word) and not _can_break_before(word, i):
            continue
        if fonts.text_width(word[start:i], size, bold) > width and i - 1 > start:
            cut = max(
                j for j in range(start + 1, i) if j == start + 1 or _can_break_before(word, j)
            )
            pieces.append(word[start:cut])
            start = cut
    pieces.append(word[start:])
    return pieces


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """Greedy word wrap; a word wider than the box is split between syllables."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if fonts.text_width(candidate, size, bold) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        if fonts.text_width(word, size, bold) <= width:
            current = word
        else:
            *full, current = _split_long(word, width, size, bold)
            lines.extend(full)
    if current:
        lines.append(current)
    return lines


def ellipsize(text: str, width: float, size: float, bold: bool = False) -> str:
    """`text` cut so that it plus an ellipsis fits `width`."""
    if fonts.text_width(text, size, bold) <= width:
        return text
    cut = len(text)
    while cut > 0:
        cut -= 1
        if cut and not _can_break_before(text, cut):
            continue
        short = text[:cut].rstrip() + ELLIPSIS
        if fonts.text_width(short, size, bold) <= width:
            return short
    return ELLIPSIS


def _place(
    wrapped: list[tuple[Para, float, list[str]]], box: Box, leading: float, align: str
) -> list[Line]:
    out: list[Line] = []
    top = box.top
    for para, size, texts in wrapped:
        for t in texts:
            asc, desc = fonts.extent(t, para.bold)
            y = top - asc * size
            w = fonts.text_width(t, size, para.bold)
            x = box.x + (box.w - w) / 2 if align == "center" else box.x
            out.append(Line(t, x, y, size, para.bold, w, asc * size, desc * size))
            top = y - desc * size - (leading - 1) * size
    return out


def _height(wrapped: list[tuple[Para, float, list[str]]], leading: float) -> float:
    h = 0.0
    for para, size, texts in wrapped:
        for t in texts:
            asc, desc = fonts.extent(t, para.bold)
            h += (asc + desc) * size + (leading - 1) * size
    return h - (leading - 1) * wrapped[-1][1] if wrapped else 0.0


def fit(paras: list[Para], box: Box, leading: float = 1.08, align: str = "left") -> list[Line]:
    """Lay paragraphs out top-down inside `box`, shrinking all of them together until they fit."""
    paras = [p for p in paras if p.text.strip()]
    if not paras:
        return []
    scale = 1.0
    while True:
        sizes = [max(p.size * scale, p.min_size) for p in paras]
        wrapped = [
            (p, s, wrap(p.text, box.w, s, p.bold)) for p, s in zip(paras, sizes, strict=True)
        ]
        if _height(wrapped, leading) <= box.h:
            return _place(wrapped, box, leading, align)
        if all(s <= p.min_size for p, s in zip(paras, sizes, strict=True)):
            return _place(_truncate(wrapped, box, leading), box, leading, align)
        scale *= 0.92


def _truncate(
    wrapped: list[tuple[Para, float, list[str]]], box: Box, leading: float
) -> list[tuple[Para, float, list[str]]]:
    """Keep the lines that fit at the floor size; the last kept line ends in an ellipsis."""
    kept: list[tuple[Para, float, list[str]]] = []
    for para, size, texts in wrapped:
        for t in texts:
            trial = kept + [(para, size, [t])]
            if _height(trial, leading) > box.h:
                if kept:
                    p, s, last = kept[-1]
                    last[-1] = ellipsize(last[-1] + " " + ELLIPSIS, box.w, s, p.bold)
                return kept
            if kept and kept[-1][0] is para:
                kept[-1][2].append(t)
            else:
                kept.append((para, size, [t]))
    return kept


def draw(canvas, lines: list[Line]) -> None:
    """Paint placed lines."""
    for line in lines:
        fonts.draw_text(canvas, line.x, line.y, line.text, line.size, line.bold)


def plural(n: int, noun: str) -> str:
    """'1 line', '2 lines'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
