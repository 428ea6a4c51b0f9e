"""Every OrderEvent.type and PaymentInfo.state core can emit is listed where a client reads the
contract — the comment on the field in common.proto and docs/API.md — and nothing else is."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from core.domain.events import EventType
from core.domain.order import PaymentState
from core.service.check import PAYMENT_STATES

ROOT = Path(__file__).resolve().parents[2]
COMMON_PROTO = ROOT / "protos" / "tote" / "v1" / "common.proto"
API_MD = ROOT / "docs" / "API.md"


def field_comment(message: str, field: str) -> str:
    """The // comment lines right above `field` in `message` of common.proto."""
    text = COMMON_PROTO.read_text()
    body = re.search(rf"^message {message} \{{\n(.*?)^\}}", text, re.S | re.M)
    assert body, f"message {message} not found in {COMMON_PROTO}"
    comment: list[str] = []
    for line in body.group(1).splitlines():
        stripped = line.strip()
        if stripped.startswith("//"):
            comment.append(stripped)
        elif re.match(rf"\S+ {field} = \d+;", stripped):
            return "\n".join(comment)
        else:
            comment = []
    raise AssertionError(f"{message}.{field} not found in {COMMON_PROTO}")


def api_md_section(title: str) -> str:
    """The text of a `### title` section of docs/API.md (up to the next heading)."""
    text = API_MD.read_text()
    m = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#)", text, re.S | re.M)
    assert m, f"docs/API.md has no section {title!r}"
    return m.group(1)


def table_keys(text: str) -> set[str]:
    """The values in the first column of a markdown table (`| `value` | … |`)."""
    return set(re.findall(r"^\| `([A-Za-z_]+)` \|", text, re.M))


def quoted(text: str) -> set[str]:
    return set(re.findall(r'"([A-Za-z_]+)"', text))


def payment_states_written_in_core() -> set[str]:
    """String literals core assigns to a payment_state, found in its source (ast)."""
    found: set[str] = set()

    def literal(node: ast.AST) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)

    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and target.attr == "payment_state":
                        literal(node.value)
                    elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                        for t, v in zip(target.elts, node.value.elts, strict=False):
                            if isinstance(t, ast.Attribute) and t.attr == "payment_state":
                                literal(v)
            elif isinstance(node, ast.keyword) and node.arg == "payment_state":
                literal(node.value)
    return found


EVENT_TYPES = {str(t) for t in EventType}
STATES = {str(s) for s in PaymentState} | PAYMENT_STATES


def test_core_writes_no_payment_state_outside_its_definitions():
    # A literal state written somewhere in core must be one `tote check` knows (and so one
    # the lists below check); this fails when someone adds a state only where it is set.
    assert payment_states_written_in_core() <= STATES


def test_the_proto_lists_every_event_type_and_no_other():
    assert quoted(field_comment("OrderEvent", "type")) == EVENT_TYPES


def test_the_proto_lists_every_payment_state_and_no_other():
    assert quoted(field_comment("PaymentInfo", "state")) == STATES


def test_api_md_lists_every_event_type_and_no_other():
    assert table_keys(api_md_section("Order events")) == EVENT_TYPES


def test_api_md_lists_every_payment_state_and_no_other():
    assert table_keys(api_md_section("Payment states")) == STATES
