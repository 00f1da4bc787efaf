"""A pytest plugin: chat transcripts against the real dispatcher, store and outbox.

Every test that uses `chat` (or `database_url`) runs twice: on SQLite and on a real PostgreSQL
server named by CROWDMENTOR_TEST_POSTGRES_URL (CI starts one; without it, locally, the
PostgreSQL half is skipped with that reason, and in CI it fails instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy.engine import make_url

from bot.adapters.local import LocalMessage, LocalPlatform
from bot.adapters.text_input import parse_command_line
from bot.app import App
from bot.clock import Clock
from bot.durations import parse_duration
from bot.events import Actor, ButtonPress, Community, FormSubmission, Place, ThreadMessage
from bot.replies import Reply
from bot.settings import Settings
from bot.store.migrate import alembic_config

POSTGRES_ENV = "CROWDMENTOR_TEST_POSTGRES_URL"
TEST_PLATFORM = "memory"


class Chat:
    """A community seen through the in-memory platform: say things, press things, read posts."""

    def __init__(self, app: App, platform: LocalPlatform, community: Community) -> None:
        self.app = app
        self.platform = platform
        self.community = community
        self.admins: set[str] = {"admin"}

    def elsewhere(self, external_id: str, name: str = "") -> Chat:
        """Return the same bot as seen from another community."""
        view = Chat(self.app, self.platform, Community(TEST_PLATFORM, external_id, name))
        view.admins = self.admins
        return view

    def actor(self, name: str) -> Actor:
        """Return a test person (ids are their names; `admin` is a platform admin)."""
        return Actor(user_id=name, display_name=name, is_platform_admin=name in self.admins)

    async def say(self, line: str, *, as_: str = "ada", channel: str = "general") -> Reply:
        """Run a command line and deliver what it queued."""
        place = Place(channel_id=channel, channel_name=channel)
        invocation = parse_command_line(line, self.actor(as_), self.community, place)
        reply = await self.app.dispatcher.dispatch(invocation)
        await self.deliver()
        return reply

    async def press(self, action: str, value: str, *, as_: str = "ada") -> Reply:
        """Press a button."""
        press = ButtonPress(action, value, self.actor(as_), self.community, Place("general"))
        reply = await self.app.dispatcher.press(press)
        await self.deliver()
        return reply

    async def submit(self, form_id: str, values: dict[str, Any], *, as_: str = "ada") -> Reply:
        """Submit a form."""
        submission = FormSubmission(
            form_id, values, self.actor(as_), self.community, Place("general")
        )
        reply = await self.app.dispatcher.submit(submission)
        await self.deliver()
        return reply

    async def reply_in(
        self, thread: str, *, as_: str, message_id: str | None = None, channel: str = "general"
    ) -> str:
        """Write a message in a thread (a Slack/Discord retry reuses its message id)."""
        message_id = message_id or uuid.uuid4().hex
        message = ThreadMessage(message_id, self.actor(as_), self.community, Place(channel, thread))
        await self.app.dispatcher.message(message)
        await self.deliver()
        return message_id

    async def wait(self, duration: str | timedelta) -> int:
        """Let time pass, run the timers that fall due, deliver; return timers run."""
        delta = parse_duration(duration) if isinstance(duration, str) else duration
        self.app.clock.advance(delta)
        fired = await self.app.scheduler.run_due()
        await self.deliver()
        return fired

    async def deliver(self) -> int:
        """Deliver everything the outbox holds that is due."""
        return await self.app.delivery.drain()

    def posts(self, channel: str = "general") -> list[LocalMessage]:
        """Return the top-level messages the bot has in a channel."""
        return self.platform.in_channel(channel)

    def thread(self, thread: str) -> list[LocalMessage]:
        """Return the bot's messages in a thread."""
        return self.platform.in_thread(thread)


def _admin_url(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


async def _postgres(admin_url: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate one SQLite file per test session; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    command.upgrade(alembic_config(f"sqlite:///{path}"), "head")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    """Migrate one PostgreSQL template database per test session (when a server is given)."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        yield None
        return
    template = f"cm_template_{uuid.uuid4().hex[:8]}"
    maintenance = _admin_url(url, "postgres")
    asyncio.run(_postgres(maintenance, f'CREATE DATABASE "{template}"'))
    command.upgrade(alembic_config(_admin_url(url, template)), "head")
    yield template
    asyncio.run(_postgres(maintenance, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_template: str | None,
) -> AsyncIterator[str]:
    """Yield a migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "crowdmentor.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    async with _fresh_postgres(postgres_template) as url:
        yield url


@pytest.fixture
async def postgres_url(postgres_template: str | None) -> AsyncIterator[str]:
    """Yield a migrated, empty PostgreSQL database (for tests that only make sense there)."""
    async with _fresh_postgres(postgres_template) as url:
        yield url


@contextlib.asynccontextmanager
async def _fresh_postgres(template: str | None) -> AsyncIterator[str]:
    url = os.environ.get(POSTGRES_ENV)
    if not url or template is None:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} must name a PostgreSQL server in CI")
        pytest.skip(f"set {POSTGRES_ENV} to run against PostgreSQL (CI does)")
    name = f"cm_test_{uuid.uuid4().hex[:10]}"
    maintenance = _admin_url(url, "postgres")
    await _postgres(maintenance, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _admin_url(url, name)
    finally:
        await _postgres(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Return settings for the test database with the shipped defaults."""
    return Settings(database_url=database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    """Yield a started app with the in-memory platform and a clock tests can move."""
    application = App(settings, clock=Clock())
    application.add_adapter(LocalPlatform(platform=TEST_PLATFORM))
    async with application.running(background=False):
        yield application


@pytest.fixture
def chat(app: App) -> Chat:
    """Return a chat in the test community."""
    platform = app.adapters[TEST_PLATFORM]
    assert isinstance(platform, LocalPlatform)
    return Chat(app, platform, Community(TEST_PLATFORM, "T1", "Test community"))
