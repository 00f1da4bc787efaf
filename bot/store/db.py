"""Engines and units of work for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)

# How long an SQLite writer waits for another process's write lock before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000


class StoreUnavailableError(RuntimeError):
    """The database could not be reached or was locked for too long; try again soon."""


def async_url(url: str) -> URL:
    """Map a user-facing URL (sqlite:///…, postgresql://…) to its async driver."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported DATABASE_URL scheme {parsed.drivername!r}")


def _prepare_sqlite_file(url: URL) -> None:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout and BEGIN IMMEDIATE: without these, concurrent writers lose updates."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (SQLAlchemy docs,
        # "Serializable isolation / Savepoints / Transactional DDL" for pysqlite).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that reads and then writes fails at once with "database is
        # locked" when another writer got in first; IMMEDIATE takes the write lock up front.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """One engine, and units of work on it."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        connect_timeout: float | None = None,
        command_timeout: float | None = None,
    ) -> None:
        self.url = url
        self._async_url = async_url(url)
        self.is_sqlite = self._async_url.get_backend_name() == "sqlite"
        # Statement parameters hold OAuth states, sealed tokens and members' words: never put
        # them in logs or error messages (SQL logging at INFO would print them all).
        private = {"echo": echo, "hide_parameters": True}
        if self.is_sqlite:
            _prepare_sqlite_file(self._async_url)
            self.engine = create_async_engine(self._async_url, **private)
            _configure_sqlite(self.engine)
        else:
            # Without timeouts a server that stopped answering (a dropped route, a full disk)
            # holds every command until TCP gives up, minutes later: fail fast and say so.
            timeouts = {"timeout": connect_timeout, "command_timeout": command_timeout}
            self.engine = create_async_engine(
                self._async_url,
                pool_pre_ping=True,
                pool_size=10,
                max_overflow=10,
                connect_args={k: v for k, v in timeouts.items() if v is not None},
                **private,
            )
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        # SQLite has one writer at a time; queueing writers here is fairer and faster than
        # letting each spin on the busy handler. Other processes still meet the busy timeout.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @contextlib.asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """Open one transaction: commit when the block ends, roll back on any error."""
        lock = self._write_lock or contextlib.nullcontext()
        async with lock:
            session = self._sessions()
            uow = UnitOfWork(session)
            try:
                yield uow
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            finally:
                await session.close()
        await uow.run_after_commit()

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


class UnitOfWork:
    """A session plus callbacks that run only once its transaction has committed."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._after_commit: list[Callable[[], Awaitable[None] | None]] = []

    def after_commit(self, callback: Callable[[], Awaitable[None] | None]) -> None:
        """Run `callback` after a successful commit (wake the outbox, arm a timer)."""
        self._after_commit.append(callback)

    async def run_after_commit(self) -> None:
        """Run the post-commit callbacks; one failing never stops the others."""
        for callback in self._after_commit:
            try:
                result = callback()
                if result is not None:
                    await result
            except Exception:
                log.exception("after-commit callback failed")


def is_unavailable(error: BaseException) -> bool:
    """Tell whether an error means "the database is not there right now" (worth a retry)."""
    if isinstance(error, StoreUnavailableError | ConnectionError | TimeoutError):
        return True
    if isinstance(error, OperationalError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)
