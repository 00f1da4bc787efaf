"""The command line as a newcomer meets it."""

import os
import sqlite3
import subprocess
import sys


def crowdmentor(*args: str, db, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "LOG_LEVEL": "INFO", **env}
    for name in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN"):
        if name not in env:
            environment.pop(name, None)
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


def test_run_with_a_platform_token_says_what_is_missing_instead_of_crashing(tmp_path):
    done = crowdmentor("run", db=tmp_path / "cm.db", SLACK_BOT_TOKEN="xoxb-SENTINEL-TOKEN")

    assert done.returncode == 2
    assert "Slack is configured" in done.stderr
    assert "xoxb-SENTINEL-TOKEN" not in done.stderr + done.stdout


def test_logs_carry_the_invocation_id(tmp_path):
    done = crowdmentor("console", "-e", "/crowdmentor help", db=tmp_path / "cm.db")

    lines = [line for line in done.stderr.splitlines() if "command /crowdmentor help" in line]
    assert len(lines) == 1
    assert "[-]" not in lines[0]  # a real id, not the placeholder used outside invocations
