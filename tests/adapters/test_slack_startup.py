"""Starting the Slack adapter the usual way logs nothing an operator should act on."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from bot.adapters.slack import SlackAdapter
from bot.app import App
from bot.settings import Settings
from tests.adapters._slack_fakes import BOT_TOKEN, SIGNING_SECRET


def test_a_bot_token_in_the_environment_starts_without_a_warning(
    tmp_path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # SLACK_BOT_TOKEN is how every single-workspace deployment gives the token.
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'cm.db'}",
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
    )
    caplog.set_level(logging.DEBUG)

    adapter = SlackAdapter(App(settings), http=True, port=0)

    assert adapter.client.token == BOT_TOKEN
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
