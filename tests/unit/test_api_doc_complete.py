"""docs/API.md describes everything tote exposes: each RPC of protos/tote/v1 (under its
service's heading) and each `tote` command with each of its options (under "CLI").

The RPCs come from the generated descriptors and the commands from the click group itself, so
an RPC or a command added without its paragraph in the contract fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click

from server.cli import cli
from tests.protos import PROTO_FILES

ROOT = Path(__file__).resolve().parents[2]
API_MD = ROOT / "docs" / "API.md"


def sections() -> dict[str, str]:
    """docs/API.md's `## ` sections: heading → text up to the next `## ` heading."""
    text = API_MD.read_text(encoding="utf-8")
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def service_methods() -> Iterator[tuple[str, str]]:
    """(service, method) for every RPC the .proto files declare."""
    for file in PROTO_FILES:
        for service in file.services_by_name.values():
            for method in service.methods:
                yield service.name, method.name


def commands(group: click.Group, path: str = "tote") -> Iterator[tuple[str, click.Command]]:
    """('tote db upgrade', its command) for every command under the group, sub-groups walked."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            yield from commands(command, f"{path} {name}")
        else:
            yield f"{path} {name}", command


def test_the_protos_declare_the_services_of_the_contract():
    # Guards the enumeration below: were the descriptors not loaded, nothing would be checked.
    assert {s for s, _ in service_methods()} == {
        "OrderService", "CatalogService", "InventoryService", "FulfillmentService",
        "ShippingService", "NotificationService", "WebhookService"}


def test_every_rpc_is_described_under_its_service():
    heads = sections()
    missing = []
    for service, method in service_methods():
        text = "".join(body for head, body in heads.items() if service in head)
        assert text, f"docs/API.md has no '## …{service}…' section"
        if not re.search(rf"`(?:{service}/)?{method}(?!\w)", text):
            missing.append(f"{service}/{method}")
    assert not missing, f"docs/API.md does not describe: {', '.join(missing)}"


def test_every_tote_command_and_option_is_in_the_cli_section():
    found = list(commands(cli))
    assert len(found) >= 14, [p for p, _ in found]  # the walk reached the sub-groups
    text = sections()["CLI"]
    missing = []
    for path, command in found:
        if f"`{path}" not in text:
            missing.append(path)
            continue
        for param in command.params:
            for flag in (*param.opts, *param.secondary_opts):
                if flag.startswith("--") and not re.search(rf"{re.escape(flag)}(?![\w-])", text):
                    missing.append(f"{path} {flag}")
    assert not missing, f"docs/API.md's CLI section does not name: {', '.join(missing)}"
