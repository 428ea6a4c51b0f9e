"""`tote demo` end to end: orders driven to DELIVERED, labels on disk, COD reconciled, clean."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import labels

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):  # type: ignore[no-untyped-def]
    """One run of the demo in a fresh working directory: (exit code, output, directory)."""
    workdir = tmp_path_factory.mktemp("demo")
    proc = subprocess.run(
        [sys.executable, "-m", "server", "demo", "--orders", "12", "--listen", "127.0.0.1:0",
         "--db", str(workdir / "demo.db")],
        cwd=workdir, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return proc.returncode, proc.stdout + proc.stderr, workdir


def section(output: str, title: str) -> dict[str, str]:
    """The rows of one closing table: first column → last column."""
    rows = output.split(f"\n{title}\n", 1)[1].split("\n\n", 1)[0]
    return {m.group(1).strip(): m.group(2) for m in re.finditer(
        r"^  (\S.*?)\s{2,}(\S+)$", rows, re.M)}


def test_the_demo_exits_0_with_delivered_orders_and_no_traceback(demo):
    code, output, _ = demo
    assert code == 0, output[-3000:]
    assert "Traceback" not in output
    by_status = section(output, "orders by status:")
    assert int(by_status.get("DELIVERED", "0")) >= 1, by_status
    # every order ended DELIVERED or CANCELLED: the demo waits until nothing is on its way
    assert set(by_status) <= {"DELIVERED", "CANCELLED"}, by_status
    assert sum(int(n) for n in by_status.values()) == 12


def test_labels_are_written_and_read_back_as_their_tracking_numbers(demo):
    code, output, workdir = demo
    pdfs = sorted((workdir / "demo-labels").glob("*.pdf"))
    assert pdfs, output[-2000:]
    assert f"in {workdir / 'demo-labels'}/" in output
    tracking = pdfs[0].stem
    codes = labels.verify(pdfs[0].read_bytes())
    assert ("CODE128", tracking) in {(c.symbology, c.data) for c in codes}
    (qr,) = [c.data for c in codes if c.symbology == "QRCODE"]
    assert labels.parse_label_payload(qr)["tracking_number"] == tracking
    assert len(list((workdir / "demo-labels").glob("*.zpl"))) == 1


def test_the_cod_reconciliation_shows_the_one_short_remittance_and_the_check_is_clean(demo):
    code, output, _ = demo
    cod = section(output, "cash on delivery, carrier sandbox:")
    assert cod["discrepancies"] == "1", output[-3000:]
    assert cod["collected by the couriers"] == cod["expected (delivered COD parcels)"]
    (line,) = [ln for ln in output.splitlines() if ln.startswith("  ! ")]
    assert line.startswith("  ! short_remittance: TT"), line
    assert "expected ₹" in line and "NEFT-DEMO-2" in line
    assert re.search(r"^settled: [1-9]\d* orders? paid out", output, re.M)
    assert re.search(r"^tote check: clean ", output, re.M), output[-2000:]


def test_every_scan_of_the_demo_pickers_keeps_their_badge(demo):
    import sqlite3

    _, _, workdir = demo
    conn = sqlite3.connect(f"file:{workdir / 'demo.db'}?mode=ro", uri=True)
    try:
        badges = dict(conn.execute(
            "SELECT coalesce(operator, '-'), count(*) FROM scans GROUP BY 1").fetchall())
    finally:
        conn.close()
    assert badges and "-" not in badges, badges
    assert all(b.startswith("OP-") for b in badges), badges


# Rupees as tote prints every amount: ₹539.00, ₹2,541.00, ₹12,34,567.00 (lakh grouping).
RUPEES = r"₹(?:\d{1,2},(?:\d\d,)*\d{3}|\d{1,3})\.\d\d"


def test_money_reads_one_way_everywhere_in_the_output(demo):
    _, output, _ = demo
    # events, the floor's lines and the closing tables all go through one formatter
    assert not re.search(r"\bINR\b|\d\s*INR|\d{4,}\s+collected", output), output[-3000:]
    amounts = re.findall(r"₹\S*", output)
    assert len(amounts) > 20
    assert [a for a in amounts if not re.match(RUPEES + r"(?:\W|$)", a)] == []
    events = [ln for ln in output.splitlines() if "Order_Created" in ln]
    assert events and all(re.search(rf"total {RUPEES} by ", ln) for ln in events), events


def test_event_lines_written_to_a_pipe_are_never_cut(demo):
    _, output, _ = demo
    # "…, sandbox TT…, carrier cost ₹95.00" is longer than any terminal cut would leave
    packed = [ln for ln in output.splitlines() if "Order_Packed" in ln]
    assert packed and all(re.search(rf"carrier cost {RUPEES}(?:; \d+ more parcels? to pack)?$",
                                    ln) for ln in packed), packed
    assert max(len(ln) for ln in packed) > 120
