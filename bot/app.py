"""The composition root: settings → store → registry → dispatcher → scheduler → delivery."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.adapters.base import Adapter
from bot.clock import Clock
from bot.context import Services
from bot.delivery import DeliveryWorker
from bot.dispatcher import Dispatcher
from bot.registry import Registry, build_registry
from bot.scheduling import Scheduler
from bot.settings import Settings
from bot.store import migrate
from bot.store.db import Database

log = logging.getLogger(__name__)


class SchemaOutOfDateError(RuntimeError):
    """The database needs `crowdmentor db upgrade` before the bot can use it."""


class App:
    """One running crowdmentor: the parts, wired once, started and stopped together."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        registry: Registry | None = None,
        adapters: dict[str, Adapter] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or Clock()
        self.database = Database(
            settings.database_url,
            connect_timeout=settings.database.connect_timeout_seconds,
            command_timeout=settings.database.command_timeout_seconds,
        )
        self.registry = registry or build_registry()
        self.adapters: dict[str, Adapter] = dict(adapters or {})
        self.services = Services(
            database=self.database,
            registry=self.registry,
            settings=settings,
            clock=self.clock,
            runtime=self,
        )
        self.dispatcher = Dispatcher(self.services)
        self.scheduler = Scheduler(self.services)
        self.delivery = DeliveryWorker(self.services, self.adapters)
        self._tasks: list[asyncio.Task[None]] = []

    # Runtime protocol: what handlers may poke after their transaction commits.
    def wake_delivery(self) -> None:
        """Tell the delivery worker there is work."""
        self.delivery.wake()

    def arm_timer(self, timer_id: int, due_at: datetime) -> None:
        """Tell the scheduler about a timer."""
        self.scheduler.arm_timer(timer_id, due_at)

    def add_adapter(self, adapter: Adapter) -> None:
        """Let the delivery worker send through one more platform."""
        self.adapters[adapter.platform] = adapter

    async def prepare_database(self) -> None:
        """Migrate SQLite automatically; refuse to run on an out-of-date PostgreSQL schema.

        Several instances upgrading one PostgreSQL database at once would race on DDL, so
        PostgreSQL is upgraded as its own step (`crowdmentor db upgrade`).
        """
        if self.database.is_sqlite:
            await migrate.upgrade(self.settings.database_url)
            return
        head = ScriptDirectory.from_config(
            migrate.alembic_config(self.settings.database_url)
        ).get_current_head()
        async with self.database.engine.connect() as connection:
            current = await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
        if current != head:
            raise SchemaOutOfDateError(
                f"the database schema is at {current or 'nothing'}, the code needs {head}: "
                "run `crowdmentor db upgrade` first"
            )

    async def start(self, *, background: bool = True) -> None:
        """Prepare the database, start the scheduler and (optionally) the delivery loop."""
        await self.prepare_database()
        await self.scheduler.start()
        if background:
            self._tasks.append(asyncio.create_task(self.delivery.run(), name="delivery"))

    async def stop(self) -> None:
        """Stop background work and close the database."""
        self.delivery.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.scheduler.stop()
        await self.database.dispose()

    @contextlib.asynccontextmanager
    async def running(self, *, background: bool = True) -> AsyncIterator[App]:
        """Run the app for the duration of the block."""
        await self.start(background=background)
        try:
            yield self
        finally:
            await self.stop()
