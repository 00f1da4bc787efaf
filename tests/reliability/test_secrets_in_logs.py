"""Tokens and secrets never reach the logs, with every logger at DEBUG.

Real flows run in this process (Slack HTTP commands, OAuth install and Web API calls; Discord
interactions and REST calls; PostgreSQL with a password) and in a real `python -m bot`
subprocess (migrations, the console, the Slack HTTP server); everything logged is searched for
every secret value.
"""

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from bot.logs import RedactSecrets
from bot.settings import Settings
from bot.testing import _postgres
from tests.adapters._discord_fakes import TOKEN as DISCORD_TOKEN
from tests.adapters._discord_fakes import discord_world
from tests.adapters._slack_fakes import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlackAPI,
    FakeWorkspace,
    slack_harness,
)
from tests.adapters.test_slack_oauth import _grant, _start

LOGGERS = (
    "",
    "bot",
    "slack_bolt",
    "slack_sdk",
    "discord",
    "aiohttp",
    "sqlalchemy.engine",
    "asyncpg",
    "alembic",
    "apscheduler",
)
APP_TOKEN = "xapp-1-SENTINEL-app-token"
CLIENT_SECRET = "client-secret-SENTINEL-4d2f"  # also the key that seals stored tokens
OAUTH_CODE = "oauth-code-SENTINEL-91ab"
TEAM_TOKEN = "xoxb-2-SENTINEL-team-token"
SENIOR = "How did you prepare for senior engineer interviews? #interviews"


@pytest.fixture
async def password_url(postgres_url: str) -> AsyncIterator[str]:
    """Yield the test database's URL for a role of its own, with a password worth hiding."""
    role = f"cm_probe_{uuid.uuid4().hex[:8]}"
    password = f"pw-SENTINEL-{uuid.uuid4().hex[:12]}"
    url = make_url(postgres_url)
    await _postgres(
        postgres_url,
        f"CREATE ROLE {role} LOGIN PASSWORD '{password}'",
        f'GRANT ALL ON DATABASE "{url.database}" TO {role}',
        f"GRANT ALL ON SCHEMA public TO {role}",
        f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}",
    )
    try:
        yield url.set(username=role, password=password).render_as_string(hide_password=False)
    finally:
        await _postgres(
            postgres_url,
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'",
            f"DROP OWNED BY {role}",
            f"DROP ROLE {role}",
        )


def secrets_of(url: str, *more: str) -> set[str]:
    password = make_url(url).password
    assert password
    return {password, BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, CLIENT_SECRET, DISCORD_TOKEN, *more}


def leaking_lines(text: str, secrets: set[str]) -> list[str]:
    return [line for line in text.splitlines() if any(secret in line for secret in secrets)]


@pytest.fixture
def everything_at_debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def captured(caplog: pytest.LogCaptureFixture) -> str:
    """Return every captured record as a handler would write it, arguments and tracebacks too."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(
        formatter.format(record) + " " + repr(record.args) for record in caplog.records
    )


async def test_slack_flows_log_no_secret(password_url, everything_at_debug):
    settings = Settings(database_url=password_url, slack_app_token=SecretStr(APP_TOKEN))
    async with slack_harness(settings) as slack:
        await slack.workspace.command("/ask", SENIOR)
        await slack.workspace.command("/crowdmentor", "help")
        await slack.workspace.event({"type": "app_home_opened", "user": "U0ADA", "tab": "home"})
        await slack.settle("command", 2)
        await slack.deliver()
        assert slack.api.called("chat.postMessage")  # the Web API was really used

    oauth = {
        "slack_bot_token": None,
        "slack_client_id": "1234.5678",
        "slack_client_secret": SecretStr(CLIENT_SECRET),
    }
    state = ""
    async with slack_harness(settings, **oauth) as slack:
        slack.api.oauth_grants[OAUTH_CODE] = _grant("T0002", TEAM_TOKEN)
        base = f"http://127.0.0.1:{slack.adapter.bound_port}"
        async with aiohttp.ClientSession() as browser:
            state, cookie = await _start(browser, base)
            async with browser.get(
                f"{base}/slack/oauth_redirect",
                params={"code": OAUTH_CODE, "state": state},
                headers=cookie,
            ) as done:
                assert done.status == 200
        slack.workspace.team_id = "T0002"
        await slack.workspace.command("/ask", SENIOR)
        await slack.settle("command", 1)
        await slack.deliver()
        assert [call.token for call in slack.api.called("chat.postMessage")] == [TEAM_TOKEN]

    secrets = secrets_of(password_url, OAUTH_CODE, TEAM_TOKEN, state)
    text = captured(everything_at_debug)
    assert len(everything_at_debug.records) > 100
    assert leaking_lines(text, secrets) == []


async def test_discord_flows_log_no_secret(password_url, everything_at_debug):
    settings = Settings(database_url=password_url, discord_token=SecretStr(DISCORD_TOKEN))
    async with discord_world(settings) as world:
        await world.slash("/ask", question=SENIOR)
        await world.slash("/crowdmentor help")
        await world.deliver()
        assert world.fake.requests  # REST calls were really made

    text = captured(everything_at_debug)
    assert len(everything_at_debug.records) > 50
    assert leaking_lines(text, secrets_of(password_url)) == []


def test_the_redaction_filter_masks_configured_secrets_and_slack_tokens_anywhere():
    redact = RedactSecrets(["s3cret-value", "", "pw"])
    record = logging.LogRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        "token %s and %r",
        ("s3cret-value", {"k": "xoxp-1-2-3"}),
        None,
    )
    try:
        raise RuntimeError("failed with s3cret-value and xoxe.xoxb-1-abc")
    except RuntimeError:
        record.exc_info = sys.exc_info()

    assert redact.filter(record)
    line = logging.Formatter("%(message)s").format(record)
    assert "s3cret-value" not in line
    assert "xoxp-1-2-3" not in line
    assert "xoxb-1-abc" not in line
    assert "token *** and {'k': '***'}" in line
    assert "failed with *** and xoxe.***" in line
    # Too-short values would mask ordinary words; they are not treated as secrets.
    assert "pw" in logging.Formatter("%(message)s").format(
        logging.LogRecord("x", logging.INFO, __file__, 1, "pwd", None, None)
    )


# ---- a real `python -m bot` -------------------------------------------------------------------

# Raise every library logger to DEBUG after the command line set up its logging.
SITECUSTOMIZE = """
import logging
import os
import bot.logs

_setup = bot.logs.setup_logging


def setup_logging(*args, **kwargs):
    _setup(*args, **kwargs)
    for name in {loggers!r}:
        logging.getLogger(name).setLevel(logging.DEBUG)
    token = os.environ["SLACK_BOT_TOKEN"]
    logging.getLogger("probe").warning("a token in a message: %s", token)


bot.logs.setup_logging = setup_logging
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.asynccontextmanager
async def crowdmentor(env: dict[str, str], *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        # The console saves an export in its working directory; keep it out of the checkout.
        cwd=env["CROWDMENTOR_TEST_WORKDIR"],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()


async def run_to_end(env: dict[str, str], *args: str) -> str:
    async with crowdmentor(env, *args) as process:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return out.decode() + err.decode()


async def test_a_real_process_logs_no_secret(password_url, tmp_path: Path):
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE.format(loggers=LOGGERS))
    api = await FakeSlackAPI().start()
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()]),
        "LOG_LEVEL": "DEBUG",
        "DATABASE_URL": password_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": api.api_url,
        "DISCORD_TOKEN": DISCORD_TOKEN,
        "PORT": str(port),
        "CROWDMENTOR_TEST_WORKDIR": str(tmp_path),
    }
    try:
        output = await run_to_end(env, "db", "upgrade")
        output += await run_to_end(
            env, "console", "-e", f"/ask {SENIOR}", "-e", "/crowdmentor export"
        )
        async with crowdmentor(env, "slack", "--http") as server:
            workspace = FakeWorkspace(f"http://127.0.0.1:{port}/slack/events", api)
            try:
                await api.wait_for(lambda: api.called("auth.test"), 30)
                status = 0
                for _ in range(100):  # the port opens a moment after auth.test
                    with contextlib.suppress(aiohttp.ClientConnectionError):
                        status, _ = await workspace.command("/ask", SENIOR)
                        break
                    await asyncio.sleep(0.1)
                assert status == 200
                await api.wait_for(lambda: api.called("chat.postMessage"), 30)
            finally:
                await workspace.close()
            server.send_signal(signal.SIGINT)
            out, err = await asyncio.wait_for(server.communicate(), 30)
        output += out.decode() + err.decode()
    finally:
        await api.stop()

    assert "senior engineer interviews" in output  # the console's answer, and DEBUG lines
    assert "DEBUG" in output
    assert leaking_lines(output, secrets_of(password_url)) == []
    # The redaction filter is installed on the real handlers: the probe's token came out masked.
    assert "probe: a token in a message: ***" in output
