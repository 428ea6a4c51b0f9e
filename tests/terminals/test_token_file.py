"""`tote picker|packer|console --token-file FILE`: the token never needs to be on a command line
(where `ps` shows it). Through the real `tote` CLI and a real server; only the apps' screen
loops are replaced, by a call the app's own client makes with the token it was given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import cli
from terminals.client import TerminalError
from terminals.packer.app import PackerApp
from terminals.picker.app import PickerApp
from tests.harness import ROOT

FC = "FC-TOKENFILE"


@pytest.fixture(scope="module")
def picker_token(tote, admin) -> str:  # type: ignore[no-untyped-def]
    admin.fc(FC)
    return tote.token("picker", "hh-file", FC)


def _file(tmp_path: Path, text: str, name: str = "hh.token") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


ANSWERS: list[str] = []


def _ask_the_server(self) -> None:  # type: ignore[no-untyped-def]
    """Instead of the screens: the app's client asks for a pick task with its token."""
    try:
        self.client.next_task(self.fc_id)
        ANSWERS.append("ok")
    except TerminalError as exc:
        ANSWERS.append(exc.message)


@pytest.fixture
def answers(monkeypatch, tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(PickerApp, "run", _ask_the_server)
    monkeypatch.setattr(PackerApp, "run", _ask_the_server)
    monkeypatch.setenv("TOTE_OUTBOX", str(tmp_path / "outbox.db"))
    monkeypatch.setattr("terminals.config.DEFAULT_FILE", tmp_path / "absent.toml")
    for var in ("TOTE_TOKEN", "TOTE_TOKEN_FILE", "TOTE_SERVER", "TOTE_FC"):
        monkeypatch.delenv(var, raising=False)
    ANSWERS.clear()
    return ANSWERS


@pytest.mark.parametrize("app", ["picker", "packer"])
def test_a_handheld_signs_in_with_the_token_in_its_token_file(
        tote, picker_token, answers, tmp_path, monkeypatch, app):
    path = _file(tmp_path, picker_token + "\n")
    args = [app, "--server", tote.grpc_address, "--fc", FC, "--token-file", str(path)]
    if app == "packer":
        args += ["--printer", str(tmp_path / "labels")]
    # The flag's file wins over a (wrong) token in the environment.
    monkeypatch.setenv("TOTE_TOKEN", "tote_not-a-token-anyone-made")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert answers == ["ok"]
    # Without the file the wrong token is used, and the server says so: the check can fail.
    result = CliRunner().invoke(cli, [a for a in args if a not in ("--token-file", str(path))])
    assert result.exit_code == 0, result.output
    assert answers[1] != "ok" and "unknown token" in answers[1]


def test_a_handheld_takes_the_token_file_from_tote_token_file(
        tote, picker_token, answers, tmp_path, monkeypatch):
    monkeypatch.setenv("TOTE_TOKEN_FILE", str(_file(tmp_path, picker_token)))
    result = CliRunner().invoke(cli, ["picker", "--server", tote.grpc_address, "--fc", FC])
    assert result.exit_code == 0, result.output
    assert answers == ["ok"]


def test_the_console_opens_with_the_token_in_its_token_file(tote, tmp_path, monkeypatch):
    import desktop.app
    from desktop.client import ConsoleClient

    token = tote.token("supervisor", "desk-file")
    seen: list[int] = []

    def open_console(server: str, token: str, tls: object = None) -> int:
        client = ConsoleClient(server, token)
        try:
            seen.append(len(client.list_orders()))
        finally:
            client.close()
        return 0

    monkeypatch.setattr(desktop.app, "run", open_console)
    monkeypatch.delenv("TOTE_TOKEN", raising=False)
    path = _file(tmp_path, token)
    result = CliRunner().invoke(cli, ["console", "--server", tote.grpc_address,
                                      "--token-file", str(path)])
    assert result.exit_code == 0, result.output
    assert len(seen) == 1


def _tote(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TOTE_")}
    return subprocess.run([sys.executable, "-m", "server", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**base, **(env or {})})


@pytest.mark.parametrize("app", ["picker", "packer", "console"])
def test_each_app_names_a_token_file_it_cannot_use_and_refuses_both_token_flags(tmp_path, app):
    fc = [] if app == "console" else ["--fc", FC]
    missing = tmp_path / "nowhere.token"
    out = _tote(app, "--server", "127.0.0.1:9", *fc, "--token-file", str(missing))
    assert out.returncode == 1 and f"cannot read token file {missing}" in out.stderr
    empty = _file(tmp_path, "\n")
    out = _tote(app, "--server", "127.0.0.1:9", *fc, env={"TOTE_TOKEN_FILE": str(empty)})
    assert out.returncode == 1 and f"token file {empty} must hold one token" in out.stderr
    out = _tote(app, "--server", "127.0.0.1:9", *fc, "--token", "tote_a",
                "--token-file", str(_file(tmp_path, "tote_b", "b.token")))
    assert out.returncode == 1 and "--token or --token-file, not both" in out.stderr
    assert "Traceback" not in out.stderr
