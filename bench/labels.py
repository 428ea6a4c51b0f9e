"""Labels per second on one core: render only, and render + read back (what render_label does).

Run: .venv/bin/python bench/labels.py [--n 200] [--size 4x6|a6]
Target: at least 40 labels/s rendered and verified per core. Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

# Run as a script, this file's folder heads sys.path and its name would shadow the package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from labels import fonts, render_zpl, samples, spec_for  # noqa: E402
from labels.shipping import render_label_with_layout  # noqa: E402
from labels.verify import verify  # noqa: E402


def _rate(fn, items) -> tuple[float, float]:
    """(items per second, median ms per item)."""
    times = []
    start = time.perf_counter()
    for item in items:
        t = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    return len(items) / total, statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--size", default="4x6")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, honestly
    spec = spec_for(args.size)
    data = [samples.label_data(i) for i in range(args.n)]
    render_label_with_layout(spec, data[0])  # fonts loaded, caches warm: measure steady state

    rows = [
        ("render only (PDF)", lambda d: render_label_with_layout(spec, d, check=False)),
        ("render + verify (render_label)", lambda d: render_label_with_layout(spec, d)),
        # Samples repeat names and streets; real addresses do not, so also measure cold text.
        (
            "render + verify, text caches cold",
            lambda d: (fonts.clear_caches(), render_label_with_layout(spec, d)),
        ),
        ("ZPL", lambda d: render_zpl(spec, d)),
    ]
    pdfs = [render_label_with_layout(spec, d, check=False)[0] for d in data[:50]]
    print(f"labels bench: {args.n} varied {spec.name} labels, one core, pid {os.getpid()}")
    for name, fn in rows:
        rate, median = _rate(fn, data)
        print(f"  {name:34s} {rate:8.1f} labels/s   median {median:6.2f} ms")
    for dpi in (203, 300):
        rate, median = _rate(lambda pdf, dpi=dpi: verify(pdf, dpi), pdfs)
        print(
            f"  {'verify() whole page at ' + str(dpi) + ' dpi':34s} {rate:8.1f} labels/s   "
            f"median {median:6.2f} ms"
        )


if __name__ == "__main__":
    main()
