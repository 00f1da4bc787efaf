"""The command line as a newcomer meets it."""

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import aiohttp

from bot.registry import build_registry
from tests.adapters._slack_fakes import BOT_TOKEN, SIGNING_SECRET, FakeSlackAPI


def _environment(db, **env: str) -> dict[str, str]:
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "LOG_LEVEL": "INFO", **env}
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "DISCORD_TOKEN"):
        if name not in env:
            environment.pop(name, None)
    return environment


def crowdmentor(*args: str, db, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    environment = _environment(db, **env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_db_upgrade_creates_the_schema(tmp_path):
    db = tmp_path / "nested" / "dir" / "cm.db"

    done = crowdmentor("db", "upgrade", db=db)

    assert done.returncode == 0, done.stderr
    tables = {row[0] for row in sqlite3.connect(db).execute("SELECT name FROM sqlite_master")}
    assert {"questions", "members", "outbox", "timers", "questions_fts"} <= tables


def test_run_without_tokens_is_the_console_repl_and_state_survives(tmp_path):
    db = tmp_path / "cm.db"

    first = crowdmentor(
        "run", db=db, stdin="/ask What's a good first conference talk topic? #speaking\n:quit\n"
    )
    second = crowdmentor("run", db=db, stdin="/crowdmentor questions\n")  # ends at end of input

    assert first.returncode == 0, first.stderr
    assert "crowdmentor console: you are @you in #general" in first.stdout
    assert "Posted as question #1" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "What's a good first conference talk topic?" in second.stdout


async def test_run_with_a_slack_token_serves_slack_over_http_and_never_prints_the_token(tmp_path):
    api = await FakeSlackAPI().start()
    port = _free_port()
    environment = _environment(
        tmp_path / "cm.db",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=api.api_url,
        PORT=str(port),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run",
        env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        health = await _wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
        await api.stop()
    output = (stdout + stderr).decode()

    assert health == {"ok": True, "platform": "slack", "mode": "http", "handled": {}}
    assert process.returncode == 0, output
    assert api.called("auth.test"), "the adapter checked its token against SLACK_API_URL"
    assert "Slack HTTP mode" in output
    assert BOT_TOKEN not in output
    assert SIGNING_SECRET not in output


def test_slack_manifest_lists_every_command_with_the_request_url(tmp_path):
    done = crowdmentor("slack-manifest", "--url", "https://example.test", db=tmp_path / "cm.db")

    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == {spec.qualified for spec in build_registry().roots()}
    assert {"/ask", "/crowdmentor"} <= set(commands)
    assert {c["url"] for c in commands.values()} == {"https://example.test/slack/events"}
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["request_url"] == "https://example.test/slack/events"
    assert settings["interactivity"]["request_url"] == "https://example.test/slack/events"
    assert settings["socket_mode_enabled"] is False
    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://example.test/slack/oauth_redirect"
    ]


def test_logs_carry_the_invocation_id(tmp_path):
    done = crowdmentor("console", "-e", "/crowdmentor help", db=tmp_path / "cm.db")

    lines = [line for line in done.stderr.splitlines() if "command /crowdmentor help" in line]
    assert len(lines) == 1
    assert "[-]" not in lines[0]  # a real id, not the placeholder used outside invocations


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait_for_health(url: str, process: asyncio.subprocess.Process) -> dict:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert process.returncode is None, "crowdmentor run stopped early"
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return await response.json()
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("GET /healthz never answered")
