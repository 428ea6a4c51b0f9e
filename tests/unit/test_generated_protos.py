"""The generated tote.v1 code matches protos/: regenerate with `python scripts/gen_protos.py`."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
gen_protos = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen_protos)


def test_generated_code_is_not_stale(tmp_path):
    gen_protos.generate(tmp_path)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert fresh, "protoc generated nothing"
    for rel in fresh:
        committed = ROOT / "protos" / rel
        assert committed.exists(), f"{rel} is not committed: run python scripts/gen_protos.py"
        assert committed.read_bytes() == (tmp_path / rel).read_bytes(), (
            f"{rel} is stale: run python scripts/gen_protos.py and commit the result"
        )
