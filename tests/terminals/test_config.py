"""Terminal settings come from flags, then the environment, then the config file."""

from __future__ import annotations

import pytest

from terminals.config import ConfigError, load, token_from


def test_flags_beat_the_environment_which_beats_the_file(tmp_path):
    path = tmp_path / "terminal.toml"
    path.write_text('server = "file:1"\ntoken = "file-token"\nfc = "FC-FILE"\n')
    env = {"TOTE_TOKEN": "env-token", "TOTE_FC": "FC-ENV"}
    config = load("flag:2", None, None, path, env=env)
    assert (config.server, config.token, config.fc_id) == ("flag:2", "env-token", "FC-ENV")


def test_a_missing_setting_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setattr("terminals.config.DEFAULT_FILE", tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="no token: pass --token-file FILE .or --token., set "
                                          "TOTE_TOKEN_FILE or TOTE_TOKEN"):
        load("h:1", None, "FC1", env={})


def test_an_unreadable_file_is_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("server = ")
    with pytest.raises(ConfigError, match="bad.toml"):
        load(config_file=path, env={})


def _token_file(tmp_path, text: str, name: str = "hh.token"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_token_file_gives_the_token_and_beats_the_environment_and_the_file(tmp_path):
    conf = _token_file(tmp_path, 'server = "file:1"\ntoken = "file-token"\nfc = "F"\n', "t.toml")
    kept = _token_file(tmp_path, "\n  tote_from-the-file  \n\n")
    env = {"TOTE_TOKEN": "env-token", "TOTE_TOKEN_FILE": str(tmp_path / "absent")}
    config = load(None, None, None, conf, env=env, token_file=kept)
    assert config.token == "tote_from-the-file"
    assert (config.server, config.fc_id) == ("file:1", "F")


def test_the_token_file_may_come_from_the_environment_or_the_config_file(tmp_path):
    kept = _token_file(tmp_path, "tote_abc\n")
    env = {"TOTE_SERVER": "h:1", "TOTE_FC": "F", "TOTE_TOKEN_FILE": str(kept)}
    assert load(env=env, config_file=_token_file(tmp_path, "", "empty.toml")).token == "tote_abc"
    conf = _token_file(tmp_path, f'server = "h:1"\nfc = "F"\ntoken_file = "{kept}"\n', "c.toml")
    assert load(config_file=conf, env={}).token == "tote_abc"
    # TOTE_TOKEN (a value) beats TOTE_TOKEN_FILE, as a flag beats the environment
    assert token_from(None, None, {"TOTE_TOKEN": "t", "TOTE_TOKEN_FILE": str(kept)}) == "t"


def test_a_token_and_a_token_file_together_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="--token or --token-file, not both"):
        load("h:1", "tote_x", "F", env={}, token_file=_token_file(tmp_path, "tote_y"))


@pytest.mark.parametrize("text", ["", "\n \n", "tote_a\ntote_b\n", "Bearer tote_a"])
def test_a_token_file_without_exactly_one_token_is_refused_naming_it(tmp_path, text):
    path = _token_file(tmp_path, text)
    with pytest.raises(ConfigError, match=f"token file {path} must hold one token"):
        load("h:1", None, "F", env={}, token_file=path)


def test_a_missing_token_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="cannot read token file .*nowhere.token"):
        load("h:1", None, "F", env={}, token_file=tmp_path / "nowhere.token")
