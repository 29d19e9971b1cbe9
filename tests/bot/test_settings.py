from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.errors import ConfigurationError
from core.paths import PROJECT_ROOT
from core.settings import SETTINGS, Settings, read_dotenv


def test_defaults_need_no_server(tmp_path: Path) -> None:
    s = Settings.load(environ={}, dotenv=tmp_path / "missing.env", root=tmp_path)
    assert s.database_url == f"sqlite:///{tmp_path / 'data/runtime/tracker.db'}"
    assert s.store_url.startswith("sqlite:///")
    assert (s.rasa_port, s.action_port, s.web_port) == (5005, 5055, 8080)
    assert s.action_url == "http://127.0.0.1:5055/webhook"
    assert len(s.rasa_api_token) >= 20  # random per run when unset
    assert len(s.action_server_token) >= 32  # random per run when unset
    assert s.action_server_token != s.rasa_api_token
    assert s.rasa_cors_origins == ()  # the web front's own origin


def test_a_new_run_gets_a_new_action_secret(tmp_path: Path) -> None:
    first = Settings.load(environ={}, dotenv=tmp_path / "none", root=tmp_path)
    second = Settings.load(environ={}, dotenv=tmp_path / "none", root=tmp_path)
    assert first.action_server_token != second.action_server_token
    again = Settings.load(environ=first.as_environ(), dotenv=tmp_path / "none", root=tmp_path)
    assert again.action_server_token == first.action_server_token  # children share it


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("# comment\nRASA_PORT=6000\nexport WEB_PORT='9000'\n")
    s = Settings.load(environ={"RASA_PORT": "7000"}, dotenv=dotenv, root=tmp_path)
    assert s.rasa_port == 7000
    assert s.web_port == 9000


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RASA_PORT": "abc"}, "RASA_PORT='abc' is not a whole number"),
        ({"WEB_PORT": "70000"}, "not a port"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"MAX_MESSAGE_CHARS": "0"}, "MAX_MESSAGE_CHARS"),
        ({"RASA_CORS_ORIGINS": "*"}, "RASA_CORS_ORIGINS='*'"),
        ({"RASA_CORS_ORIGINS": "shop.example.com"}, "is not an origin"),
        ({"RASA_CORS_ORIGINS": "https://shop.example.com/chat"}, "has a path"),
    ],
)
def test_invalid_values_name_the_setting(tmp_path: Path, env: dict, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        Settings.load(environ=env, dotenv=tmp_path / "none", root=tmp_path)


def test_malformed_dotenv_line_names_file_and_line(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("RASA_PORT=5005\nthis line is wrong\n")
    with pytest.raises(ConfigurationError, match=r"\.env:2"):
        read_dotenv(dotenv)


def test_unknown_dotenv_setting_is_an_error(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("RASA_PROT=5005\n")
    with pytest.raises(ConfigurationError, match="RASA_PROT"):
        Settings.load(environ={}, dotenv=dotenv, root=tmp_path)


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    for setting in SETTINGS:
        assert f"| `{setting.name}` |" in readme, f"{setting.name} missing from README table"


def test_env_example_lists_every_setting() -> None:
    names = set(read_dotenv(PROJECT_ROOT / ".env.example"))
    assert names == {s.name for s in SETTINGS}


def test_a_messaging_channel_is_on_only_with_all_its_settings(tmp_path: Path) -> None:
    def load(**env: str) -> Settings:
        return Settings.load(environ={"DATA_DIR": str(tmp_path), **env}, dotenv=tmp_path / "x")

    assert load().channels == ()
    on = load(SLACK_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s", TELEGRAM_API_URL="http://x")
    assert on.channels == ("slack",)
    assert on.channel("slack") == {
        "SLACK_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": "https://slack.com/api",
    }
    with pytest.raises(ConfigurationError, match="MESSENGER_VERIFY_TOKEN is missing"):
        _ = load(MESSENGER_PAGE_TOKEN="p", MESSENGER_APP_SECRET="s").channels
    with pytest.raises(ConfigurationError, match="TELEGRAM_SECRET_TOKEN must be"):
        load(TELEGRAM_TOKEN="1:a", TELEGRAM_SECRET_TOKEN="has spaces!").channel("telegram")
    with pytest.raises(ConfigurationError, match="TWILIO_API_URL='ftp://x' is not"):
        load(
            TWILIO_ACCOUNT_SID="AC1",
            TWILIO_AUTH_TOKEN="t",
            TWILIO_NUMBER="+1",
            TWILIO_API_URL="ftp://x",
        ).channel("twilio")
