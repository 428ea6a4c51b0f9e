"""The label fonts (Noto Sans, Noto Sans Devanagari; OFL, see OFL.txt) and script runs.

ReportLab draws one font per string, so mixed text ("अनन्या शर्मा, Flat 4B") is cut into runs,
each drawn with the first font that has its characters. Devanagari runs are shaped with
HarfBuzz (ReportLab's optional uharfbuzz support) so matras and conjuncts come out right.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, shapeStr

FONT_DIR = Path(__file__).resolve().parent

# ReportLab's TrueType fonts are shared by every document of the process, and each reads its
# font file through one shared position (the subsetting at save time seeks and reads it): two
# documents drawn at once from two threads read each other's glyphs (an IndexError, or worse).
# Every document of tote is drawn and saved under this lock.
RENDER_LOCK = threading.RLock()
_P = ParamSpec("_P")
_T = TypeVar("_T")


def one_at_a_time(render: Callable[_P, _T]) -> Callable[_P, _T]:
    """Run a document renderer under RENDER_LOCK."""

    @functools.wraps(render)
    def locked(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        with RENDER_LOCK:
            return render(*args, **kwargs)

    return locked

# (registered name, file) for each family, regular then bold. Order is the fallback order.
_FAMILIES = {
    "latin": ("ToteSans", "NotoSans-Regular.ttf", "ToteSans-Bold", "NotoSans-Bold.ttf"),
    "deva": (
        "ToteDeva",
        "NotoSansDevanagari-Regular.ttf",
        "ToteDeva-Bold",
        "NotoSansDevanagari-Bold.ttf",
    ),
}
# Characters that both families carry: they stay in the run around them instead of
# splitting a Devanagari name at every space.
_NEUTRAL = frozenset(" -,.()/:;'&#+0123456789")
_JOINERS = frozenset("\u200c\u200d")


def _is_devanagari(ch: str) -> bool:
    o = ord(ch)
    return 0x0900 <= o <= 0x097F or 0xA8E0 <= o <= 0xA8FF or 0x1CD0 <= o <= 0x1CFF


@dataclass(frozen=True)
class Run:
    """A piece of text drawn in one font; `shaped` runs go through HarfBuzz."""

    text: str
    font: str
    shaped: bool


@functools.cache
def register() -> None:
    """Register the bundled TTFs with ReportLab once per process."""
    for regular, rfile, bold, bfile in _FAMILIES.values():
        for name, file in ((regular, rfile), (bold, bfile)):
            pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / file), shapable=True))
        pdfmetrics.registerFontFamily(regular, normal=regular, bold=bold)


def font_name(family: str, bold: bool) -> str:
    """The registered name of a family's regular or bold face."""
    regular, _, boldname, _ = _FAMILIES[family]
    return boldname if bold else regular


@functools.cache
def _cmap(family: str) -> frozenset[int]:
    register()
    face = pdfmetrics.getFont(_FAMILIES[family][0]).face
    return frozenset(face.charToGlyph)


def undrawable(text: str) -> str:
    """The characters of `text` that no bundled font can draw (empty when all can)."""
    latin, deva = _cmap("latin"), _cmap("deva")
    bad = []
    for ch in text:
        o = ord(ch)
        if ch in _JOINERS or o in latin or o in deva:
            continue
        if ch not in bad:
            bad.append(ch)
    return "".join(bad)


@functools.lru_cache(maxsize=8192)
def runs(text: str, bold: bool = False) -> tuple[Run, ...]:
    """Split `text` into runs by script, each with the font that draws it."""
    out: list[Run] = []
    current: list[str] = []
    family: str | None = None
    for ch in text:
        if ch in _NEUTRAL or ch in _JOINERS:
            want = family or ("deva" if ch in _JOINERS else None)
        else:
            want = "deva" if _is_devanagari(ch) else "latin"
        if family is None and want is not None and current:
            family = want  # leading neutrals join the first real run
        if want is not None and family is not None and want != family:
            out.append(_run("".join(current), family, bold))
            current = []
        if want is not None:
            family = want
        current.append(ch)
    if current:
        out.append(_run("".join(current), family or "latin", bold))
    return tuple(out)


def _run(text: str, family: str, bold: bool) -> Run:
    return Run(text, font_name(family, bold), shaped=family == "deva")


@functools.lru_cache(maxsize=4096)
def _shaped(text: str, font: str, size: float) -> tuple[str, float]:
    # Canvas.drawString(shaping=True) needs the optional rlbidi package; shapeStr (HarfBuzz via
    # uharfbuzz) does the shaping alone and its ShapedStr draws through a text object.
    s = shapeStr(text, font, size)
    data = getattr(s, "__shapeData__", None)
    if data is None:
        return s, pdfmetrics.stringWidth(text, font, size)
    return s, sum(d.x_advance for d in data) * size / 1000


def _run_width(text: str, font: str, shaped: bool, size: float) -> float:
    if shaped:
        return _shaped(text, font, size)[1]
    return pdfmetrics.stringWidth(text, font, size)


@functools.lru_cache(maxsize=16384)
def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in points of `text` drawn at `size`, shaping included."""
    register()
    return sum(_run_width(r.text, r.font, r.shaped, size) for r in runs(text, bold))


def draw_text(canvas, x: float, y: float, text: str, size: float, bold: bool = False) -> float:
    """Draw `text` with its baseline at (x, y); returns the width drawn."""
    register()
    start = x
    for r in runs(text, bold):
        t = canvas.beginText(x, y)
        t.setFont(r.font, size)
        if r.shaped:
            shaped, width = _shaped(r.text, r.font, size)
            t.textOut(shaped)
        else:
            t.textOut(r.text)
            width = pdfmetrics.stringWidth(r.text, r.font, size)
        canvas.drawText(t)
        x += width
    return x - start


def markup(text: str, bold: bool = False) -> str:
    """`text` as Paragraph markup with a <font> per run, XML-escaped."""
    from xml.sax.saxutils import escape

    register()
    return "".join(f'<font name="{r.font}">{escape(r.text)}</font>' for r in runs(text, bold))


@functools.cache
def _metrics(font: str) -> tuple[float, float]:
    register()
    face = pdfmetrics.getFont(font).face
    return face.ascent / 1000, -face.descent / 1000


def extent(text: str, bold: bool = False) -> tuple[float, float]:
    """(ascent, descent) per point of size over the fonts `text` is drawn with."""
    asc, desc = _metrics(font_name("latin", bold))
    for r in runs(text, bold):
        a, d = _metrics(r.font)
        asc, desc = max(asc, a), max(desc, d)
    return asc, desc


def clear_caches() -> None:
    """Forget cached runs, widths and shapes (the benchmark measures cold text with it)."""
    runs.cache_clear()
    text_width.cache_clear()
    _shaped.cache_clear()
