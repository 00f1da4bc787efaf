"""The store's guarantees, on SQLite and PostgreSQL: no lost updates, atomic units of work."""

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import select

from bot.events import Community as CommunityRef
from bot.store.db import Database, is_unavailable
from bot.store.models import Community, Member
from bot.store.repositories import community_for, next_question_number
from bot.store.types import UTCDateTime

WRITERS = 50


@pytest.fixture
async def database(database_url):
    db = Database(database_url)
    yield db
    await db.dispose()


async def _community(database: Database, external_id: str = "T1") -> int:
    async with database.unit_of_work() as uow:
        row = await community_for(
            uow.session, CommunityRef("memory", external_id, "Test"), datetime.now(UTC)
        )
    assert row.id is not None
    return row.id


async def _count(database: Database, model) -> int:
    async with database.unit_of_work() as uow:
        return len((await uow.session.exec(select(model))).all())


# ---- no lost updates ----------------------------------------------------------------------


async def test_concurrent_read_modify_write_increments_lose_no_update(database):
    community_id = await _community(database)

    async def increment() -> None:
        async with database.unit_of_work() as uow:
            query = select(Community).where(Community.id == community_id)
            if not database.is_sqlite:
                # PostgreSQL runs READ COMMITTED: a plain read-modify-write loses updates, so
                # the row is locked as it is read. SQLite serialises writers (BEGIN IMMEDIATE).
                query = query.with_for_update()
            row = (await uow.session.exec(query)).one()
            current = row.question_seq
            await asyncio.sleep(0)  # let the other writers interleave if they can
            row.question_seq = current + 1
            uow.session.add(row)

    results = await asyncio.gather(*(increment() for _ in range(WRITERS)), return_exceptions=True)

    assert [r for r in results if r is not None] == []
    async with database.unit_of_work() as uow:
        row = await uow.session.get(Community, community_id)
    assert row.question_seq == WRITERS


async def test_next_question_number_hands_out_each_number_once_under_concurrency(database):
    community_id = await _community(database)

    async def take() -> int:
        async with database.unit_of_work() as uow:
            community = await uow.session.get(Community, community_id)
            await asyncio.sleep(0)
            return await next_question_number(uow.session, community)

    numbers = await asyncio.gather(*(take() for _ in range(WRITERS)))

    assert sorted(numbers) == list(range(1, WRITERS + 1))
    async with database.unit_of_work() as uow:
        assert (await uow.session.get(Community, community_id)).question_seq == WRITERS


async def test_question_numbers_are_counted_per_community(database):
    first = await _community(database, "T1")
    second = await _community(database, "T2")

    async def take(community_id: int) -> int:
        async with database.unit_of_work() as uow:
            community = await uow.session.get(Community, community_id)
            return await next_question_number(uow.session, community)

    assert [await take(first), await take(first), await take(second)] == [1, 2, 1]


# ---- SQLite connection settings -----------------------------------------------------------


async def _pragma(connection, name: str):
    # Read through the driver, so no transaction (and no write lock) is started.
    raw = await connection.get_raw_connection()
    cursor = await raw.driver_connection.execute(f"PRAGMA {name}")
    (value,) = await cursor.fetchone()
    await cursor.close()
    return value


async def test_every_pooled_sqlite_connection_uses_wal_and_a_busy_timeout(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        connections = [await database.engine.connect() for _ in range(3)]
        try:
            raws = {id((await c.get_raw_connection()).driver_connection) for c in connections}
            assert len(raws) == 3, "three distinct pooled connections"
            for connection in connections:
                assert (await _pragma(connection, "journal_mode")).lower() == "wal"
                assert await _pragma(connection, "busy_timeout") >= 5000
                assert await _pragma(connection, "foreign_keys") == 1
        finally:
            for connection in connections:
                await connection.close()
        # A connection handed back to the pool and taken again keeps them.
        async with database.engine.connect() as connection:
            assert (await _pragma(connection, "journal_mode")).lower() == "wal"
            assert await _pragma(connection, "busy_timeout") >= 5000
    finally:
        await database.dispose()


async def test_a_sqlite_unit_of_work_holds_the_write_lock_from_its_first_statement(tmp_path):
    path = tmp_path / "immediate.db"
    database = Database(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("CREATE TABLE t (x INTEGER)")
        async with database.unit_of_work() as uow:
            await uow.session.exec(text("SELECT count(*) FROM t"))  # reads only, so far
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("INSERT INTO t VALUES (1)")
        other.execute("INSERT INTO t VALUES (1)")  # released at commit
    finally:
        other.close()
        await database.dispose()


# ---- time zones ---------------------------------------------------------------------------


async def test_the_store_refuses_naive_datetimes(database):
    community_id = await _community(database)

    with pytest.raises(StatementError, match="naive datetime"):
        async with database.unit_of_work() as uow:
            uow.session.add(
                Member(
                    community_id=community_id,
                    external_id="naive",
                    created_at=datetime(2026, 1, 1, 12, 0),  # noqa: DTZ001 - the point of the test
                    last_seen_at=datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
                )
            )

    assert await _count(database, Member) == 0


async def test_datetimes_come_back_aware_in_utc_and_unchanged(database):
    community_id = await _community(database)
    india = timezone(timedelta(hours=5, minutes=30))
    written = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=india)

    async with database.unit_of_work() as uow:
        uow.session.add(
            Member(
                community_id=community_id,
                external_id="tz",
                created_at=written,
                last_seen_at=written,
            )
        )
    async with database.unit_of_work() as uow:
        member = (await uow.session.exec(select(Member))).one()
        community = await uow.session.get(Community, community_id)

    assert member.created_at == written
    assert member.created_at.utcoffset() == timedelta(0)
    assert member.created_at.tzinfo is UTC
    assert member.created_at == datetime(2026, 3, 28, 20, 0, 15, 123456, tzinfo=UTC)
    assert community.created_at.tzinfo is UTC
    assert community.removed_at is None


async def test_datetimes_compare_by_instant_in_queries(database):
    community_id = await _community(database)
    base = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    async with database.unit_of_work() as uow:
        for index, offset in enumerate([-1, 1]):
            uow.session.add(
                Member(
                    community_id=community_id,
                    external_id=f"m{index}",
                    created_at=base + timedelta(minutes=offset),
                    last_seen_at=base,
                )
            )
    # The same instant written in another zone must compare correctly.
    same_instant = base.astimezone(timezone(timedelta(hours=-8)))

    async with database.unit_of_work() as uow:
        later = (
            await uow.session.exec(select(Member).where(Member.created_at > same_instant))
        ).all()

    assert [m.external_id for m in later] == ["m1"]


@pytest.mark.parametrize("dialect_name", ["sqlite", "postgresql"])
def test_utc_datetime_type_binds_and_reads_per_dialect(dialect_name):
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = (sqlite if dialect_name == "sqlite" else postgresql).dialect()
    column = UTCDateTime()
    aware = datetime(2026, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))

    bound = column.process_bind_param(aware, dialect)
    read = column.process_result_value(bound, dialect)

    assert read == aware
    assert read.tzinfo is UTC
    if dialect_name == "sqlite":
        assert bound == datetime(2026, 6, 1, 12, 0)  # noqa: DTZ001 - SQLite stores UTC, no zone
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 6, 1), dialect)  # noqa: DTZ001
    assert column.process_bind_param(None, dialect) is None
    assert column.process_result_value(None, dialect) is None


# ---- units of work ------------------------------------------------------------------------


class Boom(Exception):
    pass


async def test_a_failing_unit_of_work_rolls_back_everything_it_wrote(database):
    community_id = await _community(database)
    ran: list[str] = []

    async def half_done() -> None:
        async with database.unit_of_work() as uow:
            now = datetime.now(UTC)
            uow.session.add(
                Member(community_id=community_id, external_id="a", created_at=now, last_seen_at=now)
            )
            community = await uow.session.get(Community, community_id)
            await next_question_number(uow.session, community)
            await uow.session.flush()  # the rows really reached the database
            uow.session.add(
                Member(community_id=community_id, external_id="b", created_at=now, last_seen_at=now)
            )
            uow.after_commit(lambda: ran.append("after commit"))
            raise Boom

    with pytest.raises(Boom):
        await half_done()

    assert ran == []
    assert await _count(database, Member) == 0
    async with database.unit_of_work() as uow:
        assert (await uow.session.get(Community, community_id)).question_seq == 0


async def test_a_unit_of_work_that_fails_at_commit_rolls_back_and_skips_callbacks(database):
    community_id = await _community(database)
    ran: list[str] = []
    now = datetime.now(UTC)

    async def duplicate() -> None:
        async with database.unit_of_work() as uow:
            uow.after_commit(lambda: ran.append("after commit"))
            for _ in range(2):
                uow.session.add(
                    Member(
                        community_id=community_id,
                        external_id="x",
                        created_at=now,
                        last_seen_at=now,
                    )
                )

    with pytest.raises(IntegrityError):
        await duplicate()

    assert ran == []
    assert await _count(database, Member) == 0


async def test_after_commit_callbacks_run_once_after_the_commit_is_visible(database):
    community_id = await _community(database)
    seen: list[int] = []

    async def look() -> None:
        # The transaction has committed (and released SQLite's lock): a new one sees its rows.
        seen.append(await _count(database, Member))

    async with database.unit_of_work() as uow:
        now = datetime.now(UTC)
        uow.session.add(
            Member(community_id=community_id, external_id="a", created_at=now, last_seen_at=now)
        )
        uow.after_commit(look)
        assert seen == []

    assert seen == [1]


async def test_a_failing_after_commit_callback_does_not_stop_the_others(database, caplog):
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("callback broke")

    async def fine() -> None:
        ran.append("fine")

    async with database.unit_of_work() as uow:
        uow.after_commit(broken)
        uow.after_commit(fine)
        uow.after_commit(lambda: ran.append("sync"))

    assert ran == ["fine", "sync"]
    assert "after-commit callback failed" in caplog.text


async def test_unreachable_database_errors_count_as_unavailable():
    database = Database("postgresql://x:y@127.0.0.1:1/nope")
    try:
        with pytest.raises(Exception) as caught:
            async with database.unit_of_work() as uow:
                await uow.session.exec(text("SELECT 1"))
    finally:
        await database.dispose()

    assert is_unavailable(caught.value)
    assert not is_unavailable(ValueError("a bug"))
