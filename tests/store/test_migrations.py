"""The migrations build exactly the schema the models describe, and can be undone."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

import bot.store.models  # noqa: F401 - registers every table on SQLModel.metadata
from bot.store import migrate
from bot.store.db import Database


def _is_search_object(obj, name, type_, reflected, compare_to) -> bool:
    """Tell the full-text search objects the migration adds by hand (not in the models)."""
    table = getattr(obj, "table", None)
    table_name = name if type_ == "table" else getattr(table, "name", "")
    if type_ == "table" and (name or "").startswith("questions_fts"):
        return True
    if type_ == "column" and table_name == "questions" and name == "search":
        return True
    return type_ == "index" and name == "ix_questions_search"


def _include(obj, name, type_, reflected, compare_to) -> bool:
    return not _is_search_object(obj, name, type_, reflected, compare_to)


def _differences(connection) -> list:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "include_object": _include},
    )
    return compare_metadata(context, SQLModel.metadata)


def _tables(connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _revision(connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _head(url: str) -> str:
    return ScriptDirectory.from_config(migrate.alembic_config(url)).get_current_head()


def _search_objects(connection) -> set[str]:
    inspector = inspect(connection)
    found = {t for t in inspector.get_table_names() if t.startswith("questions_fts")}
    if "questions" in inspector.get_table_names():
        found |= {c["name"] for c in inspector.get_columns("questions") if c["name"] == "search"}
        found |= {
            i["name"]
            for i in inspector.get_indexes("questions")
            if i["name"] == "ix_questions_search"
        }
    return found


@pytest.fixture
async def database(database_url):
    db = Database(database_url)
    yield db
    await db.dispose()


async def test_migrated_schema_matches_the_models(database, database_url):
    async with database.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
        revision = await connection.run_sync(_revision)
        tables = await connection.run_sync(_tables)

    assert differences == []
    assert revision == _head(database_url)
    assert set(SQLModel.metadata.tables) <= tables


async def test_the_comparison_notices_a_missing_index(database):
    # Guard against a comparison that finds nothing because it looks at nothing.
    async with database.engine.begin() as connection:
        await connection.exec_driver_sql("DROP INDEX ix_outbox_member_id")

    async with database.engine.connect() as connection:
        differences = await connection.run_sync(_differences)

    assert any(
        diff[0] == "add_index" and diff[1].name == "ix_outbox_member_id" for diff in differences
    )


async def test_the_migration_creates_full_text_search(database):
    async with database.engine.connect() as connection:
        search = await connection.run_sync(_search_objects)

    if database.is_sqlite:
        assert "questions_fts" in search
    else:
        assert search == {"search", "ix_questions_search"}


async def test_downgrade_to_base_then_upgrade_to_head(database, database_url):
    await migrate.downgrade(database_url, "base")
    async with database.engine.connect() as connection:
        tables = await connection.run_sync(_tables)
        revision = await connection.run_sync(_revision)
    await database.dispose()  # reconnect after DDL, as a restarted instance would

    assert tables <= {"alembic_version"}
    assert revision is None

    await migrate.upgrade(database_url)
    async with database.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
        revision = await connection.run_sync(_revision)
        search = await connection.run_sync(_search_objects)

    assert differences == []
    assert revision == _head(database_url)
    assert search


async def test_upgrading_an_up_to_date_database_changes_nothing(database, database_url):
    await migrate.upgrade(database_url)

    async with database.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
        revision = await connection.run_sync(_revision)

    assert differences == []
    assert revision == _head(database_url)
