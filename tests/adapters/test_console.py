"""The console, driven the way a newcomer uses it: `crowdmentor console --execute …`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleSession
from bot.adapters.console_render import ConsoleRenderer
from bot.adapters.local import LocalPlatform
from bot.app import App
from bot.clock import Clock
from bot.replies import Reply
from bot.settings import Settings


def console(db: Path, *lines: str, user: str = "you") -> str:
    args = [sys.executable, "-m", "bot", "console", "--as", user, "--in", "#general"]
    for line in lines:
        args += ["--execute", line]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "LOG_LEVEL": "WARNING"}
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_console_tells_the_whole_advice_thread_story_and_keeps_state(tmp_path):
    db = tmp_path / "console.db"

    first = console(
        db,
        "/ask How did you prepare for senior engineer interviews? #interviews",
        ":as bob",
        ":reply q1 I did mock interviews with a friend every week",
        ":as you",
        ":press question.resolve 1",
    )
    assert "Posted as question #1 in #general" in first
    assert "[#general] crowdmentor\n  ❓ Question #1 from @you" in first
    assert "[#general › q1] bob" in first
    assert "Whose reply helped most?" in first
    assert "[ bob ] → :press question.helped 1:" in first

    # A new process: the question, its replies and its state are still there.
    second = console(db, "/crowdmentor questions all", ":press question.helped 1:2")
    assert "#1 How did you prepare for senior engineer interviews?" in second
    assert "Resolved · 1 reply" in second
    assert "Thanked @bob in the thread" in second
    assert "@bob's answer helped most" in second


def test_console_shows_similar_questions_nudge_and_close(tmp_path):
    db = tmp_path / "console.db"
    out = console(
        db,
        "/ask How do I prepare for a system design interview? #interviews",
        "/ask Any tips to prepare for a system design interview?",
        ":press question.post 2",
        ":time +25h",
        ":time +14d",
    )
    assert "earlier questions look close to yours" in out
    assert "Posted as question #2" in out
    assert "Still looking for an answer" in out
    assert "Closing this after 14 quiet days" in out
    assert "Closed after a quiet spell" in out


def test_console_explains_unknown_lines_and_commands(tmp_path):
    out = console(tmp_path / "c.db", "/ak hello", ":frobnicate", "just chatting")
    assert "Did you mean `/ask`?" in out
    assert "unknown console command" in out
    assert "Commands start with /" in out


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_console_form_is_filled_field_by_field(settings: Settings):
    app = App(settings, clock=Clock())
    platform = LocalPlatform(platform="console")
    app.add_adapter(platform)
    output: list[str] = []
    answers = iter(["How do I start giving talks?", "Never spoken at a meetup", "speaking", "y"])
    session = ConsoleSession(
        app, platform, user="you", channel="general", write=output.append,
        ask=lambda _prompt: next(answers),
    )  # fmt: skip
    async with app.running(background=False):
        await session.handle("/ask")
    text = "\n".join(output)
    assert "Ask the community" in text
    assert "Posted anonymously as question #1" in text
    assert "Never spoken at a meetup" in text
    assert "#speaking" in text


def test_console_strips_terminal_control_characters_from_member_text():
    rendered = ConsoleRenderer(color=False).reply(Reply.say("hi \x1b[2J\x1b]0;pwned\x07 there"))
    assert "\x1b" not in rendered
    assert "\x07" not in rendered
