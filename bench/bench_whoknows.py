"""Benchmark `/whoknows` and the question-routing decision with a large topic directory.

Migrates a database with the real migrations, bulk-loads members, topics (Zipf-popular, so the
top topic holds tens of thousands of people), tags, availability (pauses, caps, recent asks) and
credited answers with raw SQL, then times:

- `/whoknows <topic>` through `App.dispatcher.dispatch` (topic drawn by popularity), and
- the routing decision, `bot.commands._tags.available(...)` for one to three topics, limit 3
  (exactly what `/ask` runs before pinging people), each in its own unit of work.

    python bench/bench_whoknows.py --backend sqlite                # 100,000 members, 500,000 tags
    python bench/bench_whoknows.py --backend postgresql --json
    python bench/bench_whoknows.py --backend sqlite --quick        # smoke check

The loaded SQLite file (bench/results/) and PostgreSQL database are reused when present.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import os
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.adapters.local import LocalPlatform
from bot.adapters.text_input import parse_command_line
from bot.app import App
from bot.clock import Clock
from bot.commands import _tags as tags
from bot.events import Actor, Community, Place
from bot.settings import Settings
from bot.store import migrate

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
DATA_VERSION = 1
SEED = 20261122
PLATFORM = "memory"
DEFAULT_POSTGRES_URL = "postgresql://crowdmentor:crowdmentor@127.0.0.1:5432/postgres"
POSTGRES_URL_ENV = "CROWDMENTOR_BENCH_POSTGRES_URL"
DATA_NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
TARGET_P99_MS = 10.0
BATCH = 50_000

FULL = {"members": 100_000, "tags": 500_000, "topics": 2_000, "runs": 2_000, "warmup": 200}
QUICK = {"members": 10_000, "tags": 50_000, "topics": 500, "runs": 300, "warmup": 50}

# The shape of availability in the loaded community.
ASKED_SHARE = 0.30  # asked at some point in the last 60 days
CAPPED_SHARE = 0.10  # set their own weekly cap (1-5)
PAUSED_SHARE = 0.03  # on a break right now
HELPED_QUESTIONS_PER_MEMBER = 0.2


def _sqlite_time(when: datetime) -> str:
    # SQLAlchemy's SQLite DateTime format: times compare as strings, so keep it exact.
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class Directory:
    """The generated community, row by row (same seed, same rows, on either backend)."""

    def __init__(self, members: int, tag_count: int, topic_count: int, seed: int) -> None:
        self.members, self.tag_count, self.topic_count = members, tag_count, topic_count
        self.random = random.Random(seed)
        weights = [1.0 / (k + 1) for k in range(topic_count)]
        total = sum(weights)
        self.cumulative = list(itertools.accumulate(w / total for w in weights))
        self.counts: dict[str, int] = {}

    def topic_slug(self, index: int) -> str:
        return f"topic-{index}"

    def popular_topic(self, rng: random.Random) -> int:
        return min(bisect.bisect_left(self.cumulative, rng.random()), self.topic_count - 1)

    def rows(self) -> Iterator[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]:
        """Yield (table, columns, batch of rows) in load order."""
        rng, now, never = self.random, DATA_NOW, tags.NEVER
        yield (
            "communities",
            ("id", "platform", "external_id", "name", "question_seq", "created_at"),
            [(1, PLATFORM, "T1", "Bench", 0, now - timedelta(days=900))],
        )
        yield (
            "topics",
            ("id", "community_id", "slug", "created_at"),
            [(k + 1, 1, self.topic_slug(k), now) for k in range(self.topic_count)],
        )
        self.counts["topics"] = self.topic_count
        per_member = self.tag_count / self.members
        members: list[tuple[Any, ...]] = []
        profiles: list[tuple[Any, ...]] = []
        tag_rows: list[tuple[Any, ...]] = []
        asks: list[tuple[Any, ...]] = []
        helped: list[tuple[Any, ...]] = []
        tag_id = ask_id = question_id = 0
        for member_id in range(1, self.members + 1):
            members.append((member_id, 1, f"u{member_id}", f"person{member_id}", now, now))
            last_asked, paused_until, cap = never, None, None
            if rng.random() < ASKED_SHARE:
                last_asked = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
                # Asks within the rolling week are logged, the latest one at last_asked.
                if last_asked > now - timedelta(days=7):
                    for n in range(rng.randint(1, 4)):
                        ask_id += 1
                        when = last_asked - timedelta(hours=6 * n)
                        asks.append((ask_id, 1, member_id, None, None, "question", when))
            if rng.random() < CAPPED_SHARE:
                cap = rng.randint(1, 5)
            if rng.random() < PAUSED_SHARE:
                paused_until = now + timedelta(days=rng.randint(1, 30))
            if last_asked != never or cap or paused_until:
                profiles.append((member_id, 1, paused_until, cap, last_asked))
            wanted = int(per_member) + (rng.random() < per_member % 1)
            chosen: set[int] = set()
            while len(chosen) < wanted:
                chosen.add(self.popular_topic(rng))
            for topic in chosen:
                tag_id += 1
                tag_rows.append(
                    (tag_id, 1, member_id, topic + 1, f"note {tag_id}", now, now, None, False,
                     paused_until, last_asked)
                )  # fmt: skip
            if rng.random() < HELPED_QUESTIONS_PER_MEMBER:
                question_id += 1
                helped.append(
                    (question_id, 1, question_id, None, False, f"question {question_id}", "",
                     "resolved", "general", 1, now, now, member_id)
                )  # fmt: skip
            if len(tag_rows) >= BATCH:
                yield "members", MEMBER_COLUMNS, members
                yield "member_tags", TAG_COLUMNS, tag_rows
                members, tag_rows = [], []
        yield "members", MEMBER_COLUMNS, members
        yield "member_tags", TAG_COLUMNS, tag_rows
        yield "tag_profiles", PROFILE_COLUMNS, profiles
        yield "tag_asks", ASK_COLUMNS, asks
        yield "questions", QUESTION_COLUMNS, helped
        self.counts |= {
            "members": self.members,
            "member_tags": tag_id,
            "tag_profiles": len(profiles),
            "tag_asks": ask_id,
            "questions": question_id,
        }


MEMBER_COLUMNS = ("id", "community_id", "external_id", "display_name", "created_at", "last_seen_at")
TAG_COLUMNS = (
    "id", "community_id", "member_id", "topic_id", "note", "created_at", "confirmed_at",
    "confirm_asked_at", "dormant", "paused_until", "last_asked_at",
)  # fmt: skip
PROFILE_COLUMNS = ("member_id", "community_id", "paused_until", "weekly_cap", "last_asked_at")
ASK_COLUMNS = ("id", "community_id", "member_id", "asker_id", "question_id", "kind", "created_at")
QUESTION_COLUMNS = (
    "id", "community_id", "number", "asker_id", "anonymous", "text", "context", "status",
    "channel_id", "reply_count", "created_at", "last_activity_at", "helped_by_id",
)  # fmt: skip
LOADED = ("members", "member_tags", "tag_profiles", "tag_asks", "topics")


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _sqlite_time(value)
    return int(value) if isinstance(value, bool) else value


def load_sqlite(path: Path, directory: Directory) -> dict[str, Any]:
    """Migrate a new SQLite file and bulk-load the directory into it."""
    started = time.perf_counter()
    path.unlink(missing_ok=True)
    asyncio.run(migrate.upgrade(f"sqlite:///{path}"))
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        marks = ", ".join("?" for _ in LOADED)
        # Indexes are dropped for the load and rebuilt from the SQL the migration left.
        later = connection.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({marks}) "
            "AND sql IS NOT NULL",
            LOADED,
        ).fetchall()
        connection.execute("BEGIN")
        for name, _ in later:
            connection.execute(f"DROP INDEX {name}")
        for table, columns, rows in directory.rows():
            if rows:
                connection.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})",
                    [tuple(_sqlite_value(v) for v in row) for row in rows],
                )
        for _, sql in later:
            connection.execute(sql)
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()
    return {
        "load_seconds": round(time.perf_counter() - started, 1),
        "rows": directory.counts,
        "database_bytes": path.stat().st_size,
    }


def _server_url(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _asyncpg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def load_postgres(url: str, database: str, directory: Directory) -> dict[str, Any]:
    """Create and migrate `database`, then COPY the directory in."""
    import asyncpg

    started = time.perf_counter()
    admin = await asyncpg.connect(_asyncpg_url(_server_url(url, "postgres")))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    await migrate.upgrade(_server_url(url, database))
    connection = await asyncpg.connect(_asyncpg_url(_server_url(url, database)))
    try:
        await connection.execute("SET session_replication_role = replica")  # no FK triggers
        await connection.execute("SET maintenance_work_mem = '512MB'")
        later = await connection.fetch(
            """
            SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS sql
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                 JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = ANY($1::text[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            """,
            list(LOADED),
        )
        for index in later:
            await connection.execute(f'DROP INDEX "{index["name"]}"')
        for table, columns, rows in directory.rows():
            if rows:
                await connection.copy_records_to_table(table, records=rows, columns=columns)
        for index in later:
            await connection.execute(index["sql"])
        for table in ("communities", "members", "topics", "member_tags", "tag_asks", "questions"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    return {"load_seconds": round(time.perf_counter() - started, 1), "rows": directory.counts}


async def _postgres_ready(url: str, database: str, expected_tags: int) -> bool:
    import asyncpg

    try:
        connection = await asyncpg.connect(_asyncpg_url(_server_url(url, database)))
    except asyncpg.InvalidCatalogNameError:
        return False
    try:
        head = await connection.fetchval("SELECT version_num FROM alembic_version")
        count = await connection.fetchval("SELECT count(*) FROM member_tags")
    except asyncpg.PostgresError:
        return False
    finally:
        await connection.close()
    return head == "0004" and count == expected_tags


# ---- measuring --------------------------------------------------------------------------------


def figures(name: str, latencies: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)

    return {
        "what": name,
        "runs": len(ordered),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


async def timed(operations: list[Callable[[], Awaitable[Any]]]) -> tuple[list[float], list[Any]]:
    latencies, results = [], []
    for operation in operations:
        started = time.perf_counter()
        results.append(await operation())
        latencies.append(time.perf_counter() - started)
    return latencies, results


async def measure(url: str, directory: Directory, runs: int, warmup: int) -> dict[str, Any]:
    app = App(Settings(database_url=url), clock=Clock(DATA_NOW - datetime.now(UTC)))
    app.add_adapter(LocalPlatform(platform=PLATFORM))
    rng = random.Random(SEED + 7)
    community = Community(PLATFORM, "T1", "Bench")
    out: dict[str, Any] = {}

    def whoknows(topic: int) -> Callable[[], Awaitable[Any]]:
        who = Actor(f"u{rng.randint(1, directory.members)}", "someone")
        line = f"/whoknows {directory.topic_slug(topic)}"
        invocation = parse_command_line(line, who, community, Place("general"))
        return lambda: app.dispatcher.dispatch(invocation)

    def route(topics: list[int]) -> Callable[[], Awaitable[Any]]:
        slugs = [directory.topic_slug(t) for t in topics]
        asker = rng.randint(1, directory.members)

        async def decide() -> Any:
            # What `/ask` runs before pinging anyone: map the topics, then rank who has time.
            async with app.database.unit_of_work() as uow:
                resolved = await tags.resolve_topics(uow.session, 1, slugs)
                return await tags.available(
                    uow.session,
                    1,
                    list(resolved),
                    app.clock.now(),
                    limit=tags.ROUTE_COUNT,
                    exclude={asker},
                    ids={s: i for s, i in resolved.items() if i is not None},
                )

        return decide

    def topic_sets(n: int) -> list[list[int]]:
        return [
            sorted({directory.popular_topic(rng) for _ in range(rng.randint(1, 3))})
            for _ in range(n)
        ]

    async with app.running(background=False):
        async with app.database.engine.connect() as connection:
            version = "SQLite " if app.database.is_sqlite else "PostgreSQL "
            query = "SELECT sqlite_version()" if app.database.is_sqlite else "SHOW server_version"
            out["server"] = version + str((await connection.execute(text(query))).scalar_one())
        await timed(
            [whoknows(directory.popular_topic(rng)) for _ in range(warmup)]
            + [route(t) for t in topic_sets(warmup)]
        )
        latencies, replies = await timed(
            [whoknows(directory.popular_topic(rng)) for _ in range(runs)]
        )
        out["whoknows"] = figures("/whoknows <topic> (dispatcher, topic by popularity)", latencies)
        out["whoknows_listed_someone"] = round(
            sum("People with time" in r.plain() for r in replies) / len(replies), 3
        )
        latencies, _ = await timed([whoknows(0) for _ in range(runs // 4)])
        out["whoknows_top_topic"] = figures("/whoknows on the most popular topic", latencies)

        async def floor() -> Any:
            async with app.database.unit_of_work() as uow:
                return (await uow.session.exec(text("SELECT 1"))).scalar_one()  # type: ignore[call-overload]

        # The cost of one round trip on this machine right now, to read the others against.
        latencies, _ = await timed([floor for _ in range(runs // 4)])
        out["floor"] = figures("one SELECT 1 in a unit of work (the floor)", latencies)
        latencies, found = await timed([route(t) for t in topic_sets(runs)])
        out["route"] = figures("routing decision (1-3 topics, 3 people)", latencies)
        out["route_found_three"] = round(sum(len(f.people) == 3 for f in found) / len(found), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--rebuild", action="store_true", help="reload even if cached")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    shape = QUICK if args.quick else FULL
    directory = Directory(shape["members"], shape["tags"], shape["topics"], SEED)
    key = f"bench_whoknows_m{shape['members']}_t{shape['tags']}_v{DATA_VERSION}"
    result: dict[str, Any] = {"backend": args.backend, "shape": shape}
    if args.backend == "sqlite":
        RESULTS.mkdir(exist_ok=True)
        cached = RESULTS / f"{key}.db"
        meta = cached.with_suffix(".json")
        if args.rebuild or not (cached.exists() and meta.exists()):
            loading = cached.with_suffix(".loading")
            meta.write_text(json.dumps(load_sqlite(loading, directory), indent=2) + "\n")
            loading.replace(cached)
        result["load"] = json.loads(meta.read_text())
        run = RESULTS / f"whoknows-run-{os.getpid()}.db"
        shutil.copyfile(cached, run)
        try:
            result |= asyncio.run(
                measure(f"sqlite:///{run}", directory, shape["runs"], shape["warmup"])
            )
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{run}{suffix}").unlink(missing_ok=True)
    else:
        url = os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)
        if args.rebuild or not asyncio.run(_postgres_ready(url, key, shape["tags"])):
            result["load"] = asyncio.run(load_postgres(url, key, directory))
        result |= asyncio.run(
            measure(_server_url(url, key), directory, shape["runs"], shape["warmup"])
        )
    result["target_p99_ms_sqlite"] = TARGET_P99_MS
    result["load_average"] = round(os.getloadavg()[0], 2)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name in ("whoknows", "whoknows_top_topic", "route", "floor"):
        f = result[name]
        print(f"{f['what']}: p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, max {f['max_ms']} ms")
    print(f"server: {result['server']}; load: {result.get('load')}")


if __name__ == "__main__":
    main()
