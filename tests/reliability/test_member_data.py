"""Export and forget, proven against the live schema: every column, every table, one member.

`COVERAGE` names, for every table the migrations create, which rows belong to a member and which
of their columns the export must carry. A new table or column fails the first test until it is
classified here, which is the moment to teach `/crowdmentor export` and `forget` about it.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import inspect, select, text
from sqlmodel import SQLModel

import bot.store.pairing_models
import bot.store.tag_models  # noqa: F401  (registers the tables on the metadata)
from bot.replies import reply_from_json
from bot.store.models import SlackInstallation
from tests.reliability._database_scan import everything, live_columns, mentions_of

ADA = "adalovelace"  # platform id and display name both; distinctive enough to search for


@dataclass(frozen=True)
class Link:
    """Rows of a table that belong to the member, and the columns the export must show."""

    where: str  # SQL over the table's columns; :m is the member's row id, :ext their platform id
    exported: frozenset[str]


def link(where: str, *exported: str) -> Link:
    return Link(where, frozenset(exported))


NAMED_IN_OUTBOX = (
    "member_id = :m OR recipient_ids LIKE '%' || :ext || '%' OR payload LIKE '%' || :ext || '%'"
    " OR thread_title LIKE '%' || :ext || '%'"
)

# table -> (links to a member, columns that are not the member's data, with why)
COVERAGE: dict[str, tuple[tuple[Link, ...], frozenset[str]]] = {
    "members": (
        (link("id = :m", "external_id", "display_name", "created_at", "last_seen_at"),),
        frozenset({"id", "community_id"}),
    ),
    "community_roles": (
        (link("member_id = :m", "role"),),
        frozenset({"id", "community_id", "member_id"}),
    ),
    "questions": (
        (
            link(
                "asker_id = :m",
                *("number", "anonymous", "text", "context", "status", "channel_id"),
                *("reply_count", "created_at", "posted_at", "last_activity_at", "nudged_at"),
                *("resolved_at", "closed_at"),
            ),
            link("helped_by_id = :m", "number"),
            link("resolved_by_id = :m", "number", "resolved_at"),
        ),
        # Row ids, the bot's own post on the platform, and other members' ids.
        frozenset({"id", "community_id", "asker_id", "post_ref", "thread_ref"})
        | {"resolved_by_id", "helped_by_id"},
    ),
    "question_replies": (
        (link("author_id = :m", "message_ref", "created_at"),),
        frozenset({"id", "question_id", "author_id"}),  # exported as the question's number
    ),
    "outbox": (
        (link(NAMED_IN_OUTBOX, "kind", "status", "payload", "created_at", "sent_at"),),
        # Delivery bookkeeping; recipients and titles name the others in a group too.
        frozenset({"id", "community_id", "key", "channel_id", "thread_ref", "update_ref"})
        | {"parent_key", "recipient_ids", "thread_title", "topics", "handle", "member_id"}
        | {"on_delivered", "subject_id", "attempts", "next_attempt_at", "lease_until"}
        | {"platform_ref", "platform_thread_ref", "platform_channel_id", "last_error"},
    ),
    "timers": (
        # Their tag re-confirmation reminders: scheduling only, deleted by forget.
        (link("kind LIKE 'tags.%' AND subject_id = :m"),),
        frozenset({"id", "community_id", "key", "kind", "subject_id", "due_at", "fired_at"})
        | {"attempts"},
    ),
    "member_tags": (
        (link("member_id = :m", "note", "created_at", "confirmed_at", "confirm_asked_at"),),
        # topic_id is exported as its slug; paused_until/last_asked_at copy tag_profiles.
        frozenset({"id", "community_id", "member_id", "topic_id", "dormant"})
        | {"paused_until", "last_asked_at"},
    ),
    "tag_profiles": (
        (link("member_id = :m", "paused_until", "weekly_cap", "last_asked_at"),),
        frozenset({"member_id", "community_id"}),
    ),
    "tag_asks": (
        (
            link("member_id = :m", "kind", "question_id", "created_at"),
            # Asks they caused for someone else are that person's data: a count only.
            link("asker_id = :m"),
        ),
        frozenset({"id", "community_id", "member_id", "asker_id"}),
    ),
    "coffee_requests": (
        (
            link("requester_id = :m", "message", "status", "created_at", "answered_at"),
            link("recipient_id = :m", "message", "status", "created_at", "answered_at"),
        ),
        # The other side is exported by name; the topic by its slug.
        frozenset({"id", "community_id", "requester_id", "recipient_id", "topic_id"}),
    ),
    "pair_members": (
        (
            link(
                "member_id = :m",
                *("active", "joined_at", "paused_until", "skip_next", "timezone"),
                *("work_start_minute", "work_end_minute", "career_stage", "sat_out", "trios"),
                *("repeats", "no_shows", "ignored_checkins"),
            ),
        ),
        frozenset({"id", "community_id", "member_id"}),
    ),
    "pair_avoid": (
        (
            link("member_id = :m"),  # exported as the avoided person's name
            link("avoided_id = :m"),  # someone else's private list: never exported
        ),
        frozenset({"id", "community_id", "member_id", "avoided_id"}),
    ),
    "pair_group_members": (
        (link("member_id = :m", "outcome", "answered_at"),),
        frozenset({"id", "group_id", "member_id"}),
    ),
    "slack_installations": (
        (link("team_id = 'T1' AND installer_user_id = :ext", "installed_at"),),
        # The workspace's installation; only the installer's id is the member's.
        frozenset({"id", "team_id", "team_name", "enterprise_id", "app_id", "bot_id"})
        | {"bot_user_id", "bot_scopes", "bot_token", "bot_refresh_token"}
        | {"bot_token_expires_at", "installer_user_id"},
    ),
}
# Tables that hold nothing about any one member (counts, settings, topics, round reasons).
NOT_MEMBER_DATA = {
    "communities",
    "community_settings",
    "slack_oauth_states",
    "topics",
    "topic_aliases",
    "question_topics",
    "pairing_settings",
    "pair_rounds",
    "pair_groups",
    "alembic_version",
}
# The full-text index of question text: SQLite's tables, PostgreSQL's column, both kept in step
# with `questions` by the database itself.
POSTGRES_SEARCH_COLUMN = "search"
SQLITE_SEARCH_INDEX = {
    f"questions_fts{part}" for part in ("", "_config", "_data", "_idx", "_docsize")
}


async def linked_rows(chat, table: str, where: str, member: int) -> list[dict]:
    """Rows of a table linked to a member, read through the models' types (aware datetimes)."""
    model = SQLModel.metadata.tables[table]
    query = select(model).where(text(where)).params(m=member, ext=ADA)
    async with chat.app.database.engine.connect() as connection:
        return [dict(row._mapping) for row in await connection.execute(query)]


def leaves(data: object) -> set:
    if isinstance(data, dict):
        return set().union(*(leaves(v) for v in data.values())) if data else set()
    if isinstance(data, list):
        return set().union(*(leaves(v) for v in data)) if data else set()
    return {data}


def as_exported(table: str, column: str, value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if (table, column) == ("outbox", "payload"):
        return reply_from_json(value).plain() if value else None
    return value


async def member_row_id(chat, name: str) -> int:
    async with chat.app.database.engine.connect() as connection:
        found = await connection.execute(
            text("SELECT id FROM members WHERE external_id = :e"), {"e": name}
        )
        return found.scalar_one()


async def give_ada_data_in_every_table(chat) -> None:
    """Drive real flows until Ada has rows in every member-data table, some still undelivered."""
    await chat.say(f"/crowdmentor settings moderator add @{ADA}", as_="admin")
    await chat.say("/askme add python", as_="cy")
    await chat.say("/askme add interviews Ask me about switching careers at 35", as_=ADA)
    await chat.say("/askme limit 7", as_=ADA)
    await chat.say("/ask How do you structure a large asyncio codebase? #python", as_=ADA)
    await chat.say("/ask How did you prepare for senior interviews? #interviews", as_="bob")
    await chat.reply_in("q2", as_=ADA)
    resolved = await chat.press("question.resolve", "2", as_="bob")
    await chat.press("question.helped", resolved.buttons[0].value, as_="bob")
    await chat.say("/ask How do you review a large pull request? #code-review", as_="bob")
    await chat.press("question.resolve", "3", as_=ADA)  # as a moderator

    await chat.say(f"/coffee @{ADA} interviews Could we talk about your switch?", as_="bob")
    [ask] = [m for m in chat.platform.log if m.channel_id == f"dm:{ADA}" and m.reply.buttons]
    await chat.press("coffee.accept", ask.reply.buttons[0].value, as_=ADA)

    for name in (ADA, "bob", "cy", "dee"):
        await chat.say("/pair join", as_=name)
    await chat.say("/pair timezone Europe/Berlin", as_=ADA)
    await chat.say("/pair hours 09:17-17:43", as_=ADA)
    await chat.say("/pair stage staff", as_=ADA)
    await chat.say("/pair avoid add @bob", as_=ADA)
    await chat.say(f"/pair avoid add @{ADA}", as_="cy")
    await chat.say("/pair now", as_="admin")
    await chat.wait("3d")
    checkin = next(m for m in chat.platform.log if m.thread_id and "did you" in m.reply.plain())
    met = next(b for b in checkin.reply.buttons if b.label == "We met")
    await chat.press(met.action, met.value, as_=ADA)

    async with chat.app.database.unit_of_work() as uow:
        uow.session.add(
            SlackInstallation(
                team_id="T1",
                bot_token="sealed",
                installer_user_id=ADA,
                installed_at=datetime(2024, 5, 6, 7, 8, tzinfo=UTC),
            )
        )
    # Two messages the platform refuses for now: one waits for Ada, one to cy names her.
    chat.platform.failures = [None, None]
    await chat.say(f"/coffee @{ADA} interviews Quick one about mock interviews", as_="cy")
    await chat.say("/coffee @cy python Could you look at my event loop?", as_=ADA)
    assert chat.platform.failures == []


async def test_every_table_and_column_is_classified_for_export_and_forget(chat):
    live = await live_columns(chat.app.database)

    tables = set(live) - SQLITE_SEARCH_INDEX
    assert tables == set(COVERAGE) | NOT_MEMBER_DATA, "classify new tables in COVERAGE"
    for table, (links, other) in COVERAGE.items():
        exported = frozenset().union(*(each.exported for each in links))
        assert not exported & other, f"{table}: a column is both exported and not data"
        columns = live[table] - ({POSTGRES_SEARCH_COLUMN} if table == "questions" else set())
        assert columns == exported | other, f"classify {table}'s new columns in COVERAGE"
    # Anything pointing at members must be covered: a foreign key is data about someone.
    async with chat.app.database.engine.connect() as connection:
        pointing = await connection.run_sync(
            lambda c: {
                table
                for table in inspect(c).get_table_names()
                for fk in inspect(c).get_foreign_keys(table)
                if fk["referred_table"] == "members"
            }
        )
    assert pointing <= set(COVERAGE)


async def test_export_carries_every_value_held_about_the_member(chat):
    await give_ada_data_in_every_table(chat)
    ada = await member_row_id(chat, ADA)

    [file] = (await chat.say("/crowdmentor export", as_=ADA)).files
    exported = leaves(json.loads(file.content))

    checked = 0
    for table, (links, _) in COVERAGE.items():
        for each in links:
            rows = await linked_rows(chat, table, each.where, ada)
            assert rows, f"the fixture gives Ada no {table} rows for {each.where!r}"
            for row in rows:
                for column in each.exported:
                    value = as_exported(table, column, row[column])
                    if value is None or value == "":
                        continue
                    assert value in exported, f"{table}.{column}={value!r} missing from export"
                    checked += 1
    assert checked >= 80  # 85 values when this was written
    # Who put Ada on a do-not-pair list stays secret; so do the others' ids in her messages.
    assert "cy" not in json.loads(file.content)["pairing"]["do_not_pair_with"]
    assert json.loads(file.content)["pairing"]["do_not_pair_with"] == ["bob"]


async def test_forget_leaves_no_trace_of_the_member_anywhere(chat):
    await give_ada_data_in_every_table(chat)
    ada = await member_row_id(chat, ADA)
    before = mentions_of(await everything(chat.app.database), ADA)
    # The scan does find her: her row, messages naming her, the installation she made.
    assert {row.split(":")[0] for row in before} == {"members", "outbox", "slack_installations"}

    confirm = await chat.say("/crowdmentor forget", as_=ADA)
    done = await chat.press("privacy.forget", confirm.buttons[0].value, as_=ADA)

    assert "your data is deleted" in done.plain()
    dump = await everything(chat.app.database)
    assert mentions_of(dump, ADA) == []
    for table, (links, _) in COVERAGE.items():
        for each in links:
            assert await linked_rows(chat, table, each.where, ada) == [], (table, each.where)
    # Counts that identify nobody stay, and so does everything of the others.
    async with chat.app.database.engine.connect() as connection:
        questions = await connection.execute(
            text("SELECT number, reply_count, asker_id IS NULL FROM questions ORDER BY number")
        )
        assert questions.all() == [(1, 0, True), (2, 1, False), (3, 0, False)]
        rounds = await connection.execute(text("SELECT present FROM pair_rounds"))
        assert rounds.scalar_one() == 4
        cy_asked = await connection.execute(text("SELECT count(*) FROM tag_asks"))
        assert cy_asked.scalar_one() >= 1  # cy was asked about Ada's question: still counts
    assert mentions_of(dump, "bob")
    listing = await chat.say("/crowdmentor questions all", as_="bob")
    assert "asyncio codebase" in listing.plain()
    # The pending message that named her is gone; cy's own pending request to her went too.
    chat.platform.failures = []
    await chat.wait("1h")
    assert not [m for m in chat.platform.log if ADA in m.reply.plain() and m.channel_id == "dm:cy"]


async def test_a_checkin_after_a_member_forgot_their_group_gives_up_instead_of_waiting(chat):
    for name in (ADA, "bob"):
        await chat.say("/pair join", as_=name)
    await chat.say("/pair now", as_="admin")
    confirm = await chat.say("/crowdmentor forget", as_=ADA)
    await chat.press("privacy.forget", confirm.buttons[0].value, as_=ADA)

    await chat.wait("3d")  # the round's check-in falls due; its intro was deleted with Ada

    async with chat.app.database.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT key, status, last_error FROM outbox WHERE key LIKE 'pair:%'")
        )
        assert rows.all() == [("pair:group:1:checkin", "failed", "its parent message is gone")]
    assert not [m for m in chat.platform.log if m.thread_id]
