"""Alembic environment: runs migrations on the async engine for DATABASE_URL."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import bot.store  # noqa: F401  (registers every table on SQLModel.metadata)
from bot.store.db import Database

target_metadata = SQLModel.metadata


def _include(obj: object, name: str | None, kind: str, reflected: bool, compare_to: object) -> bool:
    # The full-text search objects are made by hand in 0001 (FTS5 / tsvector), not by models.
    if kind == "table" and name and name.startswith("questions_fts"):
        return False
    return not (kind in {"column", "index"} and name in {"search", "ix_questions_search"})


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copy-and-move
        compare_type=True,
        include_object=_include,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    database = Database(context.config.get_main_option("sqlalchemy.url"))
    try:
        async with database.engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await database.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `crowdmentor db upgrade`")
asyncio.run(_run_async())
