"""Terminal settings come from flags, then the environment, then the config file."""

from __future__ import annotations

import pytest

from terminals.config import ConfigError, load


def test_flags_beat_the_environment_which_beats_the_file(tmp_path):
    path = tmp_path / "terminal.toml"
    path.write_text('server = "file:1"\ntoken = "file-token"\nfc = "FC-FILE"\n')
    env = {"TOTE_TOKEN": "env-token", "TOTE_FC": "FC-ENV"}
    config = load("flag:2", None, None, path, env=env)
    assert (config.server, config.token, config.fc_id) == ("flag:2", "env-token", "FC-ENV")


def test_a_missing_setting_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setattr("terminals.config.DEFAULT_FILE", tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="no token: pass --token, set TOTE_TOKEN"):
        load("h:1", None, "FC1", env={})


def test_an_unreadable_file_is_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("server = ")
    with pytest.raises(ConfigError, match="bad.toml"):
        load(config_file=path, env={})
