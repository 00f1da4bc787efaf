"""Benchmark `/ask` through the dispatcher, and the similar-question search, at scale.

Loads a community history (members, questions with topics, pending timers) straight into a
database migrated by the real migrations, then times `/ask` invocations through
`App.dispatcher.dispatch` and `bot.search.similar_questions` calls on their own.

    python bench/bench_ask.py --backend sqlite                 # 100,000 members, 1,000,000 q
    python bench/bench_ask.py --backend postgresql --json
    python bench/bench_ask.py --backend sqlite --quick         # a smoke check, well under 1 min

The loaded database is kept and reused: SQLite files under bench/results/, PostgreSQL databases
named after the parameters. Each run works on a fresh copy, so runs don't see each other's asks.
See bench/README.md for the recorded baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import importlib.metadata
import io
import itertools
import json
import math
import os
import platform
import pstats
import random
import shutil
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.adapters.local import LocalPlatform
from bot.adapters.text_input import parse_command_line
from bot.app import App
from bot.clock import Clock
from bot.commands.ask import POST_ACTION
from bot.events import Actor, Community, Place
from bot.search import STOPWORDS, similar_questions
from bot.settings import Settings
from bot.store import migrate

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
# Bump when the generated data changes, so stale caches are not reused.
DATA_VERSION = 1
SEED = 20261122
PLATFORM = "memory"
DEFAULT_POSTGRES_URL = "postgresql://crowdmentor:crowdmentor@127.0.0.1:5432/postgres"
POSTGRES_URL_ENV = "CROWDMENTOR_BENCH_POSTGRES_URL"

# The loaded history ends just before this instant; the app's clock is set to start here, so
# the loaded timers are due when they would be in real life, and none comes due during a run.
DATA_NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
HISTORY = timedelta(days=3 * 365)
CLOSE_AFTER = timedelta(days=14)
NUDGE_AFTER = timedelta(hours=24)
# Timers due within this long after DATA_NOW are stored as already fired, so that they don't
# fire (and take the write lock) in the middle of a run.
QUIET_START = timedelta(hours=2)
BATCH = 50_000
TARGET_P99_MS = 20.0

FULL = {"members": 100_000, "questions": 1_000_000, "asks": 2000, "searches": 2000, "warmup": 100}
QUICK = {"members": 10_000, "questions": 50_000, "asks": 300, "searches": 300, "warmup": 50}

# ---- synthetic community text -----------------------------------------------------------------

# The head of the vocabulary: words a mentorship community really uses, most frequent first.
HEAD_WORDS = """
    career job interview manager team senior role work offer salary promotion engineer code
    project python feedback resume startup company skills design system remote junior review
    learning product data leadership developer negotiation portfolio growth meetings backend
    frontend javascript mentor course certification degree bootcamp burnout balance stress
    confidence impostor communication presentation writing documentation testing debugging
    architecture cloud kubernetes docker database postgres sql api performance security
    deployment pipeline release incident oncall hiring recruiter referral linkedin network
    conference talk blog newsletter open source contribution side freelance contract equity
    options compensation raise bonus title staff principal lead director vp cto founder
    cofounder investor funding pitch customer users research analytics metrics roadmap
    priorities planning estimates deadlines scope stakeholders conflict coworker boss report
    onboarding first week month quarter year goals okrs performance-review calibration
    layoffs severance visa relocation timezone async standup retro sprint agile scrum kanban
    ticket backlog tech debt refactoring legacy migration rewrite monolith microservices
    frameworks react vue angular typescript rust golang java kotlin swift android ios mobile
    machine learning models training inference pandas notebooks statistics experiment
    hypothesis dashboard reporting excel spreadsheet finance accounting marketing sales
    design figma ux research accessibility internationalization localization support
    operations logistics healthcare education nonprofit government consulting agency
    portfolio case study whiteboard leetcode algorithms structures behavioral questions
    take-home assignment pairing rejection ghosted followup thank note reference background
    check notice period counteroffer resignation exit transition pivot switch industry
    parental leave sabbatical part-time four-day schedule commute office hybrid
    productivity focus habits routine notes reading books podcast courses tutorials videos
    mentoring sponsorship allies visibility credit recognition delegation ownership trust
    micromanagement one-on-ones skip-level manager-of-managers span headcount budget
    vendor procurement compliance audit privacy gdpr accessibility ethics bias inclusion
    """.split()

TEMPLATES = (
    "How do I {a} {b} when {c}?",
    "What is the best way to get into {a} {b}?",
    "Has anyone dealt with {a} {b} at a {c} company?",
    "Any advice on {a} and {b}?",
    "Should I focus on {a} {b} or {c}?",
    "How did you get better at {a} {b}?",
    "What should I learn about {a} before my {b} {c}?",
    "Is it normal to struggle with {a} {b} during {c}?",
    "Which {a} resources would you recommend for {b} {c}?",
    "I'm struggling with {a} {b}. How do you handle {c}?",
    "How do you balance {a} with {b} and {c}?",
    "Where can I find good material on {a} {b} for {c}?",
    "My manager wants more {a} {b}. How should I approach {c}?",
    "What does a good {a} {b} look like for a {c} role?",
    "How long did it take you to move from {a} to {b} {c}?",
    "Tips for preparing a {a} {b} for {c}?",
    "How do you say no to {a} {b} without hurting {c}?",
    "Is {a} {b} worth it for someone in {c}?",
    "What questions should I ask about {a} {b} in {c} interviews?",
    "How do I explain {a} {b} to people who don't know {c}?",
)
CONTEXTS = (
    "I have two years of {a} and I'm rusty on {b}.",
    "We use {a} at work but {b} is new to me.",
    "I tried {a} {b} already, it didn't help with {c}.",
    "My team is small and nobody does {a} {b}.",
    "Context: {a} {b}, remote, {c}.",
)
TOPICS = """
    career interviews python javascript management salary negotiation remote-work
    system-design leadership burnout job-search resume promotions feedback hiring startups
    data-science machine-learning frontend backend devops cloud security testing databases
    open-source writing public-speaking mentoring networking freelancing product-management
    ux-design mobile rust golang java typescript react career-change imposter-syndrome
    work-life-balance learning books conferences onboarding performance-reviews layoffs
    relocation visas parental-leave productivity communication conflict side-projects
    architecture incidents oncall estimates agile documentation accessibility ethics
    """.split()
FIRST_NAMES = """Ada Alan Grace Linus Margaret Ken Barbara Dennis Radia Guido Frances John
    Katherine Edsger Hedy Donald Sophie Tim Annie Bjarne Joan Niklaus Lynn Brian Evelyn Yukihiro
    Mary James Carol Rasmus Jean Anders Adele Leslie Shafi Fran Whitfield Karen Vint""".split()
LAST_NAMES = """Lovelace Turing Hopper Torvalds Hamilton Thompson Liskov Ritchie Perlman Rossum
    Allen McCarthy Johnson Dijkstra Lamarr Knuth Wilson Berners-Lee Easley Stroustrup Clarke
    Wirth Conway Kernighan Berezin Matsumoto Keller Gosling Shaw Lerdorf Sammet Hejlsberg
    Goldberg Lamport Goldwasser Diffie Jones Cerf""".split()

_ONSETS = "b c d f g h j k l m n p r s t v w z br cr dr fl gr pl pr sk sl st tr".split()
_VOWELS = "a e i o u ai ea io ou".split()
_CODAS = ["", "", "n", "r", "l", "s", "t", "m", "nd", "rt", "st", "x"]


def _pseudo_word(rng: random.Random, syllables: int) -> str:
    return "".join(
        rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
    )


class Corpus:
    """Synthetic question text: a Zipf-Mandelbrot vocabulary, templates and topic tags."""

    def __init__(self, seed: int, vocabulary: int = 4000, rare_names: int = 200_000) -> None:
        rng = random.Random(seed)
        words = list(dict.fromkeys(w for w in HEAD_WORDS if w not in STOPWORDS))
        seen = set(words) | STOPWORDS
        while len(words) < vocabulary:
            word = _pseudo_word(rng, rng.choice((2, 2, 3)))
            if len(word) >= 4 and word not in seen:
                seen.add(word)
                words.append(word)
        self.words = words
        # p(rank) ∝ 1 / (rank + 10): the commonest word is in about 9% of questions.
        self.cum_words = list(itertools.accumulate(1 / (rank + 10) for rank in range(len(words))))
        self.topics = TOPICS
        self.cum_topics = list(itertools.accumulate(1 / (rank + 2) for rank in range(len(TOPICS))))
        self.rare_names = rare_names
        self._rare_seed = seed

    def rare(self, rng: random.Random) -> str:
        """Return a rare proper name (a tool, a company) from a large space."""
        index = rng.randrange(self.rare_names)
        return _pseudo_word(random.Random(self._rare_seed * 1_000_003 + index), 3)

    def phrase(self, rng: random.Random) -> str:
        """Return one to two vocabulary words, now and then a rare name."""
        count = 1 if rng.random() < 0.55 else 2
        chosen = rng.choices(self.words, cum_weights=self.cum_words, k=count)
        if rng.random() < 0.06:
            chosen[-1] = self.rare(rng)
        return " ".join(chosen)

    def question(self, rng: random.Random) -> tuple[str, str, list[str]]:
        """Return (text, context, topic slugs) for one question."""
        fill = {"a": self.phrase(rng), "b": self.phrase(rng), "c": self.phrase(rng)}
        question = rng.choice(TEMPLATES).format(**fill)
        context = ""
        if rng.random() < 0.3:
            more = {"a": self.phrase(rng), "b": self.phrase(rng), "c": self.phrase(rng)}
            context = rng.choice(CONTEXTS).format(**more)
        count = rng.choices((0, 1, 2, 3), weights=(20, 40, 30, 10))[0]
        topics = list(dict.fromkeys(rng.choices(self.topics, cum_weights=self.cum_topics, k=count)))
        return question, context, topics

    def ask_line(self, rng: random.Random) -> str:
        """Return a `/ask …` command line as a member would type it."""
        question, context, topics = self.question(rng)
        if context:
            question = f"{question} {context}"
        if rng.random() < 0.15:
            # An inline tag: the word stays in the sentence and becomes a topic as well.
            words = question.split(" ")
            spot = rng.randrange(len(words))
            if words[spot].isalpha():
                words[spot] = "#" + words[spot]
            question = " ".join(words)
        tags = "".join(f" #{topic}" for topic in topics)
        anonymous = "--anonymous " if rng.random() < 0.05 else ""
        return f"/ask {anonymous}{question}{tags}"


def external_id(member: int) -> str:
    """Return the platform id of member number `member` (0-based)."""
    return f"U{member:07d}"


def display_name(member: int) -> str:
    """Return the display name of member number `member`."""
    first = FIRST_NAMES[member % len(FIRST_NAMES)]
    last = LAST_NAMES[(member // len(FIRST_NAMES)) % len(LAST_NAMES)]
    return f"{first} {last} {member}"


def community_of(member: int, communities: int) -> int:
    """Return the community row id member number `member` belongs to."""
    return member % communities + 1


def community_ref(community_id: int) -> Community:
    """Return the platform community whose row id is `community_id`."""
    return Community(PLATFORM, f"T{community_id}", f"Bench community {community_id}")


# ---- generated rows -----------------------------------------------------------------------------

QUESTION_COLUMNS = (
    "id", "community_id", "number", "asker_id", "anonymous", "text", "context", "status",
    "channel_id", "post_ref", "thread_ref", "reply_count", "created_at", "posted_at",
    "last_activity_at", "nudged_at", "resolved_at", "resolved_by_id", "helped_by_id", "closed_at",
)  # fmt: skip
MEMBER_COLUMNS = ("id", "community_id", "external_id", "display_name", "created_at", "last_seen_at")
TOPIC_COLUMNS = ("id", "community_id", "slug", "created_at")
QUESTION_TOPIC_COLUMNS = ("question_id", "topic_id")
TIMER_COLUMNS = (
    "id",
    "community_id",
    "key",
    "kind",
    "subject_id",
    "due_at",
    "fired_at",
    "attempts",
)
COMMUNITY_COLUMNS = ("id", "platform", "external_id", "name", "question_seq", "created_at")

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Shape:
    """What to load: how many members and questions, in how many communities."""

    members: int
    questions: int
    communities: int = 1
    seed: int = SEED

    @property
    def key(self) -> str:
        """Return a name for this data set and schema (cache file, database name)."""
        return (
            f"bench_ask_m{self.members}_q{self.questions}_c{self.communities}"
            f"_s{self.seed}_v{DATA_VERSION}_r{schema_head()}"
        )


def schema_head() -> str:
    """Return the newest migration's revision: a cache loaded under an older one is not reused."""
    config = migrate.alembic_config("sqlite://")
    return str(ScriptDirectory.from_config(config).get_current_head())


@dataclass
class History:
    """The rows of a generated community history, produced in batches."""

    shape: Shape
    corpus: Corpus
    question_seq: dict[int, int] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    def communities(self) -> list[Row]:
        """Return the community rows (their question counters are final after `questions`)."""
        start = DATA_NOW - HISTORY - timedelta(days=30)
        return [
            (c, PLATFORM, community_ref(c).external_id, community_ref(c).name,
             self.question_seq.get(c, 0), start)
            for c in range(1, self.shape.communities + 1)
        ]  # fmt: skip

    def members(self) -> Iterator[list[Row]]:
        """Yield member rows in batches."""
        rng = random.Random(self.shape.seed + 1)
        span = HISTORY.total_seconds()
        for first in range(0, self.shape.members, BATCH):
            batch = []
            for m in range(first, min(first + BATCH, self.shape.members)):
                created = DATA_NOW - HISTORY + timedelta(seconds=span * m / self.shape.members)
                seen = created + (DATA_NOW - created) * rng.random()
                batch.append(
                    (m + 1, community_of(m, self.shape.communities), external_id(m),
                     display_name(m), created, seen)
                )  # fmt: skip
            self.counts["members"] += len(batch)
            yield batch

    def topics(self) -> list[Row]:
        """Return every community's topic rows."""
        rows: list[Row] = []
        created = DATA_NOW - HISTORY
        for c in range(1, self.shape.communities + 1):
            for slug in self.corpus.topics:
                rows.append((len(rows) + 1, c, slug, created))
        self.counts["topics"] = len(rows)
        return rows

    def topic_id(self, community_id: int, slug_index: int) -> int:
        """Return the row id of a community's topic."""
        return (community_id - 1) * len(self.corpus.topics) + slug_index + 1

    def questions(self) -> Iterator[tuple[list[Row], list[Row], list[Row]]]:
        """Yield (questions, question_topics, timers) in batches, oldest question first."""
        shape, corpus = self.shape, self.corpus
        rng = random.Random(shape.seed + 2)
        slug_index = {slug: i for i, slug in enumerate(corpus.topics)}
        step = (HISTORY - timedelta(hours=1)) / shape.questions
        start = DATA_NOW - HISTORY
        open_since = DATA_NOW - CLOSE_AFTER + QUIET_START
        timer_id = itertools.count(1)
        for first in range(0, shape.questions, BATCH):
            questions: list[Row] = []
            links: list[Row] = []
            timers: list[Row] = []
            for qid in range(first + 1, min(first + BATCH, shape.questions) + 1):
                asker = rng.randrange(shape.members)
                community = community_of(asker, shape.communities)
                number = self.question_seq.get(community, 0) + 1
                self.question_seq[community] = number
                text_, context, topics = corpus.question(rng)
                created = start + step * (qid - 1)
                replies = min(int(rng.expovariate(0.5)), 40)
                helper = (
                    rng.randrange(shape.members) + 1 if replies and rng.random() < 0.5 else None
                )
                last_activity = (
                    created + timedelta(hours=rng.uniform(0, 48)) if replies else created
                )
                resolved_at = resolved_by = closed_at = nudged_at = None
                if created >= open_since:
                    status = "open"
                    last_activity = min(last_activity, DATA_NOW - timedelta(minutes=30))
                    timers.append(
                        (next(timer_id), community, f"question:{qid}:close", "question.close", qid,
                         last_activity + CLOSE_AFTER, None, 0)
                    )  # fmt: skip
                    nudge_due = created + NUDGE_AFTER
                    fired = nudge_due if nudge_due < DATA_NOW + QUIET_START else None
                    if fired and not replies:
                        nudged_at = fired
                    timers.append(
                        (next(timer_id), community, f"question:{qid}:nudge", "question.nudge", qid,
                         nudge_due, fired, 0)
                    )  # fmt: skip
                elif rng.random() < 0.4:
                    status, resolved_at, resolved_by = "resolved", last_activity, asker + 1
                else:
                    status, closed_at = "closed", last_activity + CLOSE_AFTER
                    helper = None
                questions.append(
                    (qid, community, number, asker + 1, rng.random() < 0.05, text_, context,
                     status, "C0001", f"p{qid}", f"p{qid}", replies, created, created,
                     last_activity, nudged_at, resolved_at, resolved_by, helper, closed_at)
                )  # fmt: skip
                links.extend((qid, self.topic_id(community, slug_index[t])) for t in topics)
            self.counts["questions"] += len(questions)
            self.counts["question_topics"] += len(links)
            self.counts["timers"] += len(timers)
            yield questions, links, timers


# ---- SQLite ------------------------------------------------------------------------------------


def _sqlite_time(value: datetime | None) -> str | None:
    # The format SQLAlchemy's SQLite DateTime writes (UTCDateTime stores naive UTC).
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_row(row: Row) -> Row:
    return tuple(
        _sqlite_time(v) if isinstance(v, datetime) else int(v) if isinstance(v, bool) else v
        for v in row
    )


def _insert(connection: sqlite3.Connection, table: str, columns: Sequence[str], rows: list[Row]):
    marks = ", ".join("?" for _ in columns)
    connection.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
        [_sqlite_row(row) for row in rows],
    )


def load_sqlite(path: Path, shape: Shape) -> dict[str, Any]:
    """Migrate a new SQLite file and bulk-load a generated history into it."""
    started = time.perf_counter()
    path.unlink(missing_ok=True)
    asyncio.run(migrate.upgrade(f"sqlite:///{path}"))
    migrated = time.perf_counter()
    history = History(shape, Corpus(shape.seed))
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-1000000")
        connection.execute("PRAGMA temp_store=MEMORY")
        loaded = ("questions", "question_topics", "members", "timers", "topics")
        marks = ", ".join("?" for _ in loaded)
        # Secondary indexes and the FTS triggers are dropped for the load and then recreated
        # from the very SQL the migration left in the schema.
        later = connection.execute(
            f"SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
            f"AND tbl_name IN ({marks}) AND sql IS NOT NULL ORDER BY type, name",
            loaded,
        ).fetchall()
        connection.execute("BEGIN")
        for kind, name, _ in later:
            connection.execute(f"DROP {kind.upper()} {name}")
        for batch in history.members():
            _insert(connection, "members", MEMBER_COLUMNS, batch)
        _insert(connection, "topics", TOPIC_COLUMNS, history.topics())
        for questions, links, timers in history.questions():
            _insert(connection, "questions", QUESTION_COLUMNS, questions)
            _insert(connection, "question_topics", QUESTION_TOPIC_COLUMNS, links)
            _insert(connection, "timers", TIMER_COLUMNS, timers)
        _insert(connection, "communities", COMMUNITY_COLUMNS, history.communities())
        rows_loaded = time.perf_counter()
        for kind, _, sql in later:
            if kind == "index":
                connection.execute(sql)
        indexed = time.perf_counter()
        connection.execute("INSERT INTO questions_fts(questions_fts) VALUES ('rebuild')")
        for kind, _, sql in later:
            if kind == "trigger":
                connection.execute(sql)
        connection.execute("COMMIT")
        fts = time.perf_counter()
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()
    return {
        "load_seconds": round(time.perf_counter() - started, 1),
        "migrate_seconds": round(migrated - started, 1),
        "rows_seconds": round(rows_loaded - migrated, 1),
        "index_seconds": round(indexed - rows_loaded, 1),
        "fts_rebuild_seconds": round(fts - indexed, 1),
        "rows": dict(history.counts),
        "database_bytes": path.stat().st_size,
    }


@contextlib.contextmanager
def sqlite_database(shape: Shape, *, rebuild: bool) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield the URL of a fresh copy of the cached database (loading it first if needed)."""
    RESULTS.mkdir(exist_ok=True)
    cached = RESULTS / f"{shape.key}.db"
    meta_path = cached.with_suffix(".json")
    if rebuild or not (cached.exists() and meta_path.exists()):
        print(f"loading {shape.questions:,} questions into {cached} …", flush=True)
        loading = cached.with_suffix(f".loading-{os.getpid()}")
        meta = load_sqlite(loading, shape)
        loading.replace(cached)
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
        meta["cached"] = False
    else:
        meta = json.loads(meta_path.read_text())
        meta["cached"] = True
    run = RESULTS / f"run-{os.getpid()}.db"
    started = time.perf_counter()
    shutil.copyfile(cached, run)
    meta["copy_seconds"] = round(time.perf_counter() - started, 1)
    try:
        yield f"sqlite:///{run}", meta
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{run}{suffix}").unlink(missing_ok=True)


# ---- PostgreSQL -------------------------------------------------------------------------------


def _server_url(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _asyncpg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(url: str, *statements: str) -> list[Any]:
    import asyncpg

    connection = await asyncpg.connect(_asyncpg_url(_server_url(url, "postgres")))
    try:
        return [
            await connection.fetch(statement)
            if statement.startswith("SELECT")
            else await connection.execute(statement)
            for statement in statements
        ]
    finally:
        await connection.close()


async def load_postgres(url: str, database: str, shape: Shape) -> dict[str, Any]:
    """Create and migrate `database`, then bulk-load a generated history with COPY."""
    import asyncpg

    started = time.perf_counter()
    await _admin(url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    await _admin(url, f'CREATE DATABASE "{database}"')
    await migrate.upgrade(_server_url(url, database))
    migrated = time.perf_counter()
    history = History(shape, Corpus(shape.seed))
    connection = await asyncpg.connect(_asyncpg_url(_server_url(url, database)))
    try:
        await connection.execute("SET session_replication_role = replica")  # no FK triggers
        await connection.execute("SET maintenance_work_mem = '1GB'")
        later = await connection.fetch(
            """
            SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS sql
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                 JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = ANY($1::text[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            """,
            ["questions", "question_topics", "members", "timers", "topics"],
        )
        for index in later:
            await connection.execute(f'DROP INDEX "{index["name"]}"')
        for batch in history.members():
            await connection.copy_records_to_table("members", records=batch, columns=MEMBER_COLUMNS)
        topics = history.topics()
        await connection.copy_records_to_table("topics", records=topics, columns=TOPIC_COLUMNS)
        for questions, links, timers in history.questions():
            await connection.copy_records_to_table(
                "questions", records=questions, columns=QUESTION_COLUMNS
            )
            await connection.copy_records_to_table(
                "question_topics", records=links, columns=QUESTION_TOPIC_COLUMNS
            )
            await connection.copy_records_to_table("timers", records=timers, columns=TIMER_COLUMNS)
        await connection.copy_records_to_table(
            "communities", records=history.communities(), columns=COMMUNITY_COLUMNS
        )
        rows_loaded = time.perf_counter()
        for index in later:
            await connection.execute(index["sql"])
        for table in ("communities", "members", "topics", "questions", "timers"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        indexed = time.perf_counter()
        await connection.execute("VACUUM ANALYZE")
        vacuumed = time.perf_counter()
    finally:
        await connection.close()
    return {
        "load_seconds": round(time.perf_counter() - started, 1),
        "migrate_seconds": round(migrated - started, 1),
        "rows_seconds": round(rows_loaded - migrated, 1),
        "index_seconds": round(indexed - rows_loaded, 1),
        "vacuum_analyze_seconds": round(vacuumed - indexed, 1),
        "rows": dict(history.counts),
    }


async def _prepare_postgres(url: str, shape: Shape, run: str, *, rebuild: bool) -> dict[str, Any]:
    """Load the data set unless a complete copy exists, then copy it to `run`."""
    import asyncpg

    name = shape.key
    # One benchmark at a time loads or copies: others wait here instead of dropping its work.
    guard = await asyncpg.connect(_asyncpg_url(_server_url(url, "postgres")))
    try:
        await guard.execute("SELECT pg_advisory_lock(hashtext('crowdmentor bench_ask'))")
        [found] = await _admin(
            url, f"SELECT shobj_description(oid, 'pg_database') AS meta FROM pg_database "
            f"WHERE datname = '{name}'"
        )  # fmt: skip
        if rebuild or not found or not found[0]["meta"]:
            print(f"loading {shape.questions:,} questions into database {name} …", flush=True)
            loading = f"{name}_l{os.getpid()}"
            meta = await load_postgres(url, loading, shape)
            meta_text = json.dumps(meta).replace("'", "''")
            await _admin(
                url,
                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                f'ALTER DATABASE "{loading}" RENAME TO "{name}"',
                f"COMMENT ON DATABASE \"{name}\" IS '{meta_text}'",
            )
            meta["cached"] = False
        else:
            meta = json.loads(found[0]["meta"])
            meta["cached"] = True
        started = time.perf_counter()
        await _admin(
            url,
            f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)',
            f'CREATE DATABASE "{run}" TEMPLATE "{name}" STRATEGY FILE_COPY',
        )
        meta["copy_seconds"] = round(time.perf_counter() - started, 1)
        return meta
    finally:
        await guard.close()


@contextlib.contextmanager
def postgres_database(
    url: str, shape: Shape, *, rebuild: bool
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield the URL of a fresh copy of the loaded database (loading it first if needed)."""
    run = f"bench_ask_run_{os.getpid()}"
    meta = asyncio.run(_prepare_postgres(url, shape, run, rebuild=rebuild))
    try:
        yield _server_url(url, run), meta
    finally:
        asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)'))


# ---- measuring --------------------------------------------------------------------------------


@dataclass
class Figures:
    """Latency percentiles and throughput of one operation."""

    operation: str
    count: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    ops_per_second: float

    @classmethod
    def of(cls, operation: str, samples: list[float], seconds: float) -> Figures:
        """Summarise latencies (in seconds) measured over `seconds` of wall time."""
        ordered = sorted(samples)

        def rank(p: float) -> float:
            # Nearest-rank percentile.
            return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000

        return cls(
            operation=operation,
            count=len(ordered),
            seconds=round(seconds, 3),
            p50_ms=round(rank(50), 2),
            p95_ms=round(rank(95), 2),
            p99_ms=round(rank(99), 2),
            max_ms=round(ordered[-1] * 1000, 2),
            ops_per_second=round(len(ordered) / seconds, 1),
        )


async def timed(
    operations: Sequence[Callable[[], Awaitable[Any]]], concurrency: int
) -> tuple[list[float], float, list[Any]]:
    """Run operations (`concurrency` at a time); return latencies, wall time and results."""
    latencies: list[float] = [0.0] * len(operations)
    results: list[Any] = [None] * len(operations)
    queue = iter(range(len(operations)))

    async def worker() -> None:
        for index in queue:
            started = time.perf_counter()
            results[index] = await operations[index]()
            latencies[index] = time.perf_counter() - started

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started, results


@dataclass
class Plan:
    """What one run does."""

    backend: str
    shape: Shape
    asks: int
    searches: int
    warmup: int
    concurrency: int
    profile: bool


def ask_operations(
    app: App, corpus: Corpus, shape: Shape, count: int, seed: int
) -> list[Callable[[], Awaitable[Any]]]:
    """Build `/ask` invocations from random members, ready to dispatch."""
    rng = random.Random(seed)
    place = Place(channel_id="C0001", channel_name="ask-the-community")
    operations: list[Callable[[], Awaitable[Any]]] = []
    for _ in range(count):
        member = rng.randrange(shape.members)
        actor = Actor(user_id=external_id(member), display_name=display_name(member))
        community = community_ref(community_of(member, shape.communities))
        invocation = parse_command_line(corpus.ask_line(rng), actor, community, place)
        operations.append(lambda invocation=invocation: app.dispatcher.dispatch(invocation))
    return operations


def search_operations(
    app: App, corpus: Corpus, shape: Shape, count: int, seed: int
) -> list[Callable[[], Awaitable[Any]]]:
    """Build `similar_questions` calls for new question texts, each in its own unit of work."""
    rng = random.Random(seed)
    limit = app.settings.ask.similar_shown

    async def search(community_id: int, question: str) -> Any:
        # Through a unit of work, as the bot reads: on SQLite that queues behind the app's own
        # writers (the scheduler's sweep) instead of fighting them for the file lock.
        async with app.database.unit_of_work() as uow:
            return await similar_questions(uow.session, community_id, question, limit=limit)

    operations: list[Callable[[], Awaitable[Any]]] = []
    for _ in range(count):
        community_id = community_of(rng.randrange(shape.members), shape.communities)
        question, context, _ = corpus.question(rng)
        operations.append(lambda c=community_id, q=f"{question} {context}": search(c, q))
    return operations


def ask_outcome(reply: Any) -> str:
    """Classify a reply to `/ask`: held to show similar questions, posted, or something else."""
    if any(button.action == POST_ACTION for button in reply.buttons):
        return "held for similar"
    if reply.text.plain().startswith("Posted"):
        return "posted"
    return "other: " + reply.plain()[:80]


async def measure(plan: Plan, url: str) -> dict[str, Any]:
    """Start the app on `url`, warm up, then time `/ask` and the similar-question search."""
    corpus = Corpus(plan.shape.seed)
    # Start the clock where the loaded history ends (see DATA_NOW).
    app = App(Settings(database_url=url), clock=Clock(DATA_NOW - datetime.now(UTC)))
    app.add_adapter(LocalPlatform(platform=PLATFORM))
    out: dict[str, Any] = {}
    async with app.running(background=False):
        out["server"] = await server_version(app)
        seed = plan.shape.seed + 100
        warm = ask_operations(app, corpus, plan.shape, plan.warmup, seed)
        warm += search_operations(app, corpus, plan.shape, plan.warmup, seed + 1)
        await timed(warm, 1)
        # Other work on the machine skews the figures: keep the load average with them.
        out["load_average_before"] = round(os.getloadavg()[0], 2)

        asks = ask_operations(app, corpus, plan.shape, plan.asks, seed + 2)
        profiler = cProfile.Profile() if plan.profile else None
        if profiler:
            profiler.enable()
        latencies, wall, replies = await timed(asks, plan.concurrency)
        if profiler:
            profiler.disable()
            out["profile"] = profile_summary(profiler, plan)
        out["ask"] = Figures.of("/ask (dispatcher)", latencies, wall)
        out["ask_outcomes"] = dict(Counter(ask_outcome(reply) for reply in replies))

        searches = search_operations(app, corpus, plan.shape, plan.searches, seed + 3)
        latencies, wall, found = await timed(searches, plan.concurrency)
        out["search"] = Figures.of("similar_questions", latencies, wall)
        out["search_found_any"] = round(sum(1 for f in found if f) / max(1, len(found)), 3)
        out["search_mean_found"] = round(sum(len(f) for f in found) / max(1, len(found)), 2)
        out["load_average_after"] = round(os.getloadavg()[0], 2)
    return out


def profile_summary(profiler: cProfile.Profile, plan: Plan) -> str:
    """Save the profile under bench/results/ and return its top entries as text."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"ask-{plan.backend}.prof"
    profiler.dump_stats(path)
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer).strip_dirs().sort_stats("cumulative")
    stats.print_stats(30)
    return f"profile saved to {path}\n{buffer.getvalue()}"


async def server_version(app: App) -> str:
    """Return the database engine's version string."""
    async with app.database.engine.connect() as connection:
        if app.database.is_sqlite:
            value = (await connection.execute(text("SELECT sqlite_version()"))).scalar_one()
            return f"SQLite {value}"
        value = (await connection.execute(text("SHOW server_version"))).scalar_one()
        return f"PostgreSQL {value}"


def machine() -> dict[str, Any]:
    """Describe the machine: CPU, cores, memory, OS, Python and library versions."""
    cpu = platform.processor() or platform.machine()
    memory = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    versions = {}
    for package in ("sqlalchemy", "sqlmodel", "aiosqlite", "asyncpg"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[package] = importlib.metadata.version(package)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "libraries": versions,
    }


# ---- the command line -------------------------------------------------------------------------


def report(plan: Plan, result: dict[str, Any]) -> str:
    """Render the results as a readable table."""
    box, shape, load = result["machine"], plan.shape, result["load"]
    lines = [
        f"crowdmentor /ask benchmark: {plan.backend}, {shape.members:,} members, "
        f"{shape.questions:,} earlier questions, {shape.communities} "
        f"communit{'y' if shape.communities == 1 else 'ies'}, concurrency {plan.concurrency}",
        f"machine: {box['cpu']}, {box['cores']} cores, {box['memory_gib']} GiB RAM, "
        f"{box['os']}, Python {box['python']}, {result['server']}",
        f"load average (1 min) before/after timing: {result['load_average_before']} / "
        f"{result['load_average_after']} (this run keeps about 1 core busy)",
        f"load: {load['load_seconds']} s"
        + (" (reused from an earlier run)" if load.get("cached") else "")
        + f"; fresh copy for this run: {load['copy_seconds']} s; rows: "
        + ", ".join(f"{table} {count:,}" for table, count in load["rows"].items()),
        "",
        f"{'operation':<20} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'ops/s':>8}",
    ]
    for key in ("ask", "search"):
        f = result[key]
        lines.append(
            f"{f['operation']:<20} {f['count']:>6} {f['p50_ms']:>8.2f} {f['p95_ms']:>8.2f} "
            f"{f['p99_ms']:>8.2f} {f['max_ms']:>8.2f} {f['ops_per_second']:>8.1f}"
        )
    outcomes = ", ".join(
        f"{count} {what}" for what, count in sorted(result["ask_outcomes"].items())
    )
    lines += [
        "",
        f"/ask outcomes: {outcomes}",
        f"similar_questions: {result['search_found_any']:.0%} of searches found at least one "
        f"(mean {result['search_mean_found']} shown)",
    ]
    if plan.backend == "sqlite":
        verdicts = [
            f"{name} {'met' if result[key]['p99_ms'] < TARGET_P99_MS else 'MISSED'}"
            for key, name in (("ask", "/ask"), ("search", "search"))
        ]
        lines.append(f"target p99 < {TARGET_P99_MS:.0f} ms on SQLite: " + ", ".join(verdicts))
    if "profile" in result:
        lines += ["", result["profile"]]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--members", type=int, help=f"default {FULL['members']:,}")
    parser.add_argument("--questions", type=int, help=f"earlier questions ({FULL['questions']:,})")
    parser.add_argument("--communities", type=int, default=1, help="spread the members over N")
    parser.add_argument("--asks", type=int, help=f"timed /ask invocations ({FULL['asks']})")
    parser.add_argument("--searches", type=int, help=f"timed searches ({FULL['searches']})")
    parser.add_argument("--warmup", type=int, help="untimed operations of each kind first")
    parser.add_argument("--concurrency", type=int, default=1, help="operations in flight")
    parser.add_argument(
        "--url",
        default=os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL),
        help=f"PostgreSQL server (any database on it; ${POSTGRES_URL_ENV})",
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--rebuild", action="store_true", help="load again, ignoring the cache")
    parser.add_argument("--profile", action="store_true", help="cProfile the timed /ask calls")
    parser.add_argument("--json", action="store_true", help="also print one JSON object")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def run(plan: Plan, args: argparse.Namespace) -> dict[str, Any]:
    """Prepare the database for the plan and measure."""
    if plan.backend == "sqlite":
        with sqlite_database(plan.shape, rebuild=args.rebuild) as (url, load):
            result = asyncio.run(measure(plan, url))
    else:
        with postgres_database(args.url, plan.shape, rebuild=args.rebuild) as (url, load):
            result = asyncio.run(measure(plan, url))
    return {"load": load, **result}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    args = parse_args(argv)
    # A terminated run still drops its copy of the database (the `finally` blocks run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    shape = Shape(members=args.members, questions=args.questions, communities=args.communities)
    plan = Plan(
        backend=args.backend,
        shape=shape,
        asks=args.asks,
        searches=args.searches,
        warmup=args.warmup,
        concurrency=args.concurrency,
        profile=args.profile,
    )
    result = run(plan, args)
    result = {
        "backend": plan.backend,
        "shape": asdict(shape),
        "asks": plan.asks,
        "searches": plan.searches,
        "warmup": plan.warmup,
        "concurrency": plan.concurrency,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **{k: asdict(v) if isinstance(v, Figures) else v for k, v in result.items()},
    }
    print(report(plan, result))
    result.pop("profile", None)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"ask-{plan.backend}-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    if args.json:
        print(json.dumps(result))
    return 0 if all("other" not in k for k in result["ask_outcomes"]) else 1


if __name__ == "__main__":
    sys.exit(main())
