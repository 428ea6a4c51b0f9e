"""Generate tote.v1's Python code from protos/ with grpc_tools.protoc (never edit the output)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"


def proto_files() -> list[Path]:
    """Every .proto file of tote.v1, sorted."""
    return sorted((PROTO_ROOT / "tote" / "v1").glob("*.proto"))


def generate(out_dir: Path) -> None:
    """Run protoc for every proto file into out_dir (python, grpc and pyi outputs)."""
    import grpc_tools
    from grpc_tools import protoc

    include = str(Path(grpc_tools.__file__).parent / "_proto")
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *[str(p.relative_to(PROTO_ROOT)) for p in proto_files()],
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed: see its message above")


if __name__ == "__main__":
    generate(PROTO_ROOT)
    print(f"generated {len(proto_files())} proto files into {PROTO_ROOT / 'tote' / 'v1'}")
    sys.exit(0)
