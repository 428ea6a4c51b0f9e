"""ZPL II: structure checked without a printer (a tokenizer over ^ and ~ commands)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from labels import LABEL_4X6, LABEL_A6, format_money, render_zpl, samples
from labels.codes import label_payload
from labels.zpl import field_data, unescape

N_ORDERS = 50
_COMMAND = re.compile(r"([\^~])([A-Z@][A-Z0-9@]?)([^\^~]*)")


def commands(zpl: str) -> list[tuple[str, str]]:
    """(command, parameters) in order; newlines between commands are ignored."""
    out = []
    for prefix, name, params in _COMMAND.findall(zpl):
        # ^FD takes everything up to the next ^, and ^A@/^A0 are ^A with a font letter.
        if name.startswith("A") and len(name) == 2 and name not in ("A@",):
            name, params = "A", name[1] + params
        out.append((prefix + name, params.rstrip("\n")))
    return out


def fields(zpl: str) -> list[list[tuple[str, str]]]:
    """The commands of each ^FO ... ^FS field."""
    groups, current = [], None
    for cmd in commands(zpl):
        if cmd[0] == "^FO":
            current = [cmd]
        elif current is not None:
            current.append(cmd)
            if cmd[0] == "^FS":
                groups.append(current)
                current = None
    return groups


def _has_text(field: list[tuple[str, str]]) -> bool:
    return any(c == "^FD" for c, _ in field)


def field_data_of(field: list[tuple[str, str]]) -> str:
    return unescape(next(p for c, p in field if c == "^FD"))


@pytest.mark.parametrize("size", ["4x6", "a6"])
@pytest.mark.parametrize("i", range(N_ORDERS))
def test_zpl_is_one_format_with_tracking_in_bc_and_payload_in_bq(orders, i, size):
    d = orders[i]
    spec = LABEL_4X6 if size == "4x6" else LABEL_A6
    zpl = render_zpl(spec, d)
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ")
    assert zpl.count("^XA") == 1 and zpl.count("^XZ") == 1
    cmds = commands(zpl)
    first_text = [c for c, _ in cmds].index("^FD")
    assert ("^CI", "28") in cmds[:first_text], "UTF-8 must be on before any text"
    width = int(dict(commands(zpl))["^PW"])
    length = int(dict(commands(zpl))["^LL"])
    assert (width, length) == (round(spec.width * 203 / 72), round(spec.height * 203 / 72))
    groups = fields(zpl)
    barcodes = [f for f in groups if any(c == "^BC" for c, _ in f)]
    qrs = [f for f in groups if any(c == "^BQ" for c, _ in f)]
    assert len(barcodes) == 1 and len(qrs) == 1
    assert field_data_of(barcodes[0]) == d.tracking_number
    payload = label_payload(d.tracking_number, d.order_id, d.ship_to.postal_code)
    assert field_data_of(qrs[0]) == "MA," + payload
    for f in groups:
        x, y = (int(v) for v in f[0][1].split(","))
        assert 0 <= x < width and 0 <= y < length, f
        assert f[-1][0] == "^FS"
    texts = "".join(
        field_data_of(f)
        for f in groups
        if f not in barcodes + qrs and any(c == "^FD" for c, _ in f)
    )
    assert d.ship_to.name.replace(" ", "") in texts.replace(" ", "")
    assert d.order_id in texts


def test_zpl_escapes_command_characters_in_field_data():
    d = dataclasses.replace(samples.label_data(4), tracking_number="T^4~_>822<a+b")
    zpl = render_zpl(LABEL_4X6, d)
    assert "^FDT_5E4_7E_5F>822<a+b^FS" in zpl
    assert field_data("a^b~c_d\\e") == "a_5Eb_7Ec_5Fd_5Ce"
    assert unescape(field_data("अनन्या ^ ~")) == "अनन्या ^ ~"


def test_zpl_draws_devanagari_with_a_unicode_font_and_latin_with_font_0():
    d = dataclasses.replace(
        samples.label_data(1),
        ship_to=dataclasses.replace(samples.label_data(1).ship_to, name="अनन्या शर्मा"),
    )
    zpl = render_zpl(LABEL_4X6, d)
    deva = [f for f in fields(zpl) if _has_text(f) and field_data_of(f) == "अनन्या शर्मा"]
    assert len(deva) == 1
    assert any(c == "^A@" and p.endswith("E:NOTODEVA.TTF") for c, p in deva[0])
    latin = [f for f in fields(zpl) if _has_text(f) and field_data_of(f) == f"Order {d.order_id}"]
    assert any(c == "^A" and p.startswith("0N") for c, p in latin[0])
    assert "^PA0,1,1,1" in zpl  # advanced layout shapes the conjuncts on the printer


def test_cod_zpl_carries_the_amount():
    d = samples.label_data(0)
    assert d.cod is not None
    texts = [field_data_of(f) for f in fields(render_zpl(LABEL_4X6, d)) if _has_text(f)]
    assert "COD - COLLECT" in texts
    assert format_money(d.cod) in texts
    prepaid = [
        field_data_of(f)
        for f in fields(render_zpl(LABEL_4X6, samples.label_data(1)))
        if _has_text(f)
    ]
    assert "COD - COLLECT" not in prepaid and any("PREPAID" in t for t in prepaid)
