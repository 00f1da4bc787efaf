"""Ask-me-about helpers: topics (normalise, alias, plural), availability, caps and ranking.

Shared by `/askme`, `/whoknows`, `/coffee`, the topics directory and question routing, so
"who has time for X" means exactly the same thing everywhere.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import tuple_, union_all, update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.adapters.base import DeliveryKind
from bot.commands._pause import pause_end
from bot.context import Context
from bot.errors import BadArgumentsError
from bot.limits import TOPIC_MAX_CHARS
from bot.replies import (
    Bold,
    ChannelLink,
    Code,
    Mention,
    Quote,
    Reply,
    Rich,
    Section,
    Visibility,
    rich,
)
from bot.store.models import Member, Question, Topic
from bot.store.tag_models import NEVER, AskKind, MemberTag, TagAsk, TagProfile, TopicAlias
from bot.text import normalise_topic

# Tuning that admins may one day want in config/default.toml ([tags]); module constants for now.
ROUTE_COUNT = 3  # people notified when a question on their topic is posted (and per widening)
DEFAULT_WEEKLY_CAP = 3  # asks per rolling week (question pings and coffee requests together)
CAP_MAX = 50
CAP_WINDOW = timedelta(days=7)
REFRESH_AFTER = timedelta(days=182)  # "still happy to be asked about X?" about every 6 months
REFRESH_GRACE = timedelta(days=14)  # unanswered after this long: the tag goes dormant
PAUSE_MAX = timedelta(days=366)

# Bad-input bounds: a topic is a short label, a note a sentence, an add a handful of topics.
TOPICS_PER_ADD = 10
TAGS_PER_MEMBER = 30
NOTE_MAX_CHARS = 200

# Rows read per ranking page, and how many pages before giving up on a topic where everyone
# early in the order is at their cap (only tiny or saturated topics ever get that far).
_PAGE = 100
_PAGES_MAX = 20


# ---- topics -----------------------------------------------------------------------------------


def check_topic(raw: str) -> str:
    """Return the normalised slug of a typed topic, or explain why it isn't one."""
    typed = raw.strip().lstrip("#").strip()
    if not typed:
        raise BadArgumentsError(
            rich("That topic is empty. Name it in a word or two, like ", Code("python"), ".")
        )
    if len(typed) > TOPIC_MAX_CHARS:
        raise BadArgumentsError(
            rich(
                f"A topic is a short label of at most {TOPIC_MAX_CHARS} characters "
                f"(that one has {len(typed):,}), like ",
                Code("python"),
                " or ",
                Code("career-change"),
                ". Put longer words in the note instead. Nothing was saved.",
            )
        )
    slug = normalise_topic(typed)
    if not re.search(r"[^\W_]", slug):
        raise BadArgumentsError(
            rich(
                "“", typed, "” has no letters or digits, so it can't be a topic. Nothing was saved."
            )
        )
    return slug


def _variants(slug: str) -> list[str]:
    """Return the obvious singular and plural spellings of a slug's last word."""
    if slug.endswith("ies") and len(slug) > 4:
        return [slug[:-3] + "y"]
    if slug.endswith("es") and len(slug) > 3:
        return [slug[:-1], slug[:-2]]
    if slug.endswith("s") and not slug.endswith("ss") and len(slug) > 2:
        return [slug[:-1]]
    if slug.endswith("y") and len(slug) > 2:
        return [slug + "s", slug[:-1] + "ies"]
    return [slug + "s", slug + "es"]


async def resolve_topics(
    session: AsyncSession, community_id: int, slugs: list[str]
) -> dict[str, int | None]:
    """Map slugs to the community's spellings and their topic ids (None: not a topic yet).

    One query, whatever the number of slugs. An alias maps to its target; a slug the community
    doesn't use yet folds to an obvious plural or singular it does use ("interviews" →
    "interview" when "interview" exists), but singulars are never invented ("kubernetes" stays).
    """
    if not slugs:
        return {}
    spellings = {s: [s, *_variants(s)] for s in slugs}
    wanted = sorted({v for vs in spellings.values() for v in vs})
    aliased = (
        select(TopicAlias.alias, TopicAlias.topic, Topic.id)
        .outerjoin(
            Topic,
            (col(Topic.community_id) == col(TopicAlias.community_id))
            & (col(Topic.slug) == col(TopicAlias.topic)),
        )
        .where(TopicAlias.community_id == community_id, col(TopicAlias.alias).in_(wanted))
    )
    direct = select(Topic.slug, Topic.slug, Topic.id).where(
        Topic.community_id == community_id, col(Topic.slug).in_(wanted)
    )
    rows = (await session.exec(union_all(aliased, direct))).all()  # type: ignore[call-overload]
    known: dict[str, tuple[str, int | None]] = {}
    # An alias wins over a topic row of the same name (questions may have created one).
    for name, target, topic_id in sorted(rows, key=lambda r: r[0] != r[1]):
        known[name] = (target, topic_id)
    mapped: dict[str, int | None] = {}
    for slug in slugs:
        hit = next((known[v] for v in spellings[slug] if v in known), (slug, None))
        mapped.setdefault(hit[0], hit[1])
    return mapped


async def canonical_many(session: AsyncSession, community_id: int, slugs: list[str]) -> list[str]:
    """Map slugs to the community's spellings (see `resolve_topics`)."""
    return list(await resolve_topics(session, community_id, slugs))


async def canonical(session: AsyncSession, community_id: int, slug: str) -> str:
    """Map one slug to the community's spelling."""
    return (await canonical_many(session, community_id, [slug]))[0]


async def canonical_topics(session: AsyncSession, community_id: int, raws: list[str]) -> list[str]:
    """Check and map typed topics; raise a clear error for the first bad one."""
    return await canonical_many(session, community_id, [check_topic(raw) for raw in raws])


async def existing_topic_ids(
    session: AsyncSession, community_id: int, slugs: list[str]
) -> dict[str, int]:
    """Return ids of the slugs the community already has (creating none)."""
    if not slugs:
        return {}
    rows = await session.exec(
        select(Topic.slug, Topic.id).where(
            Topic.community_id == community_id, col(Topic.slug).in_(slugs)
        )
    )
    return {slug: topic_id for slug, topic_id in rows.all() if topic_id is not None}


async def directory(session: AsyncSession, community_id: int) -> list[tuple[str, int]]:
    """Return (topic, number of people) for every topic someone is tagged with, largest first."""
    count = func.count(col(MemberTag.id))
    rows = await session.exec(
        select(Topic.slug, count)
        .join(MemberTag, col(MemberTag.topic_id) == col(Topic.id))
        .where(MemberTag.community_id == community_id, col(MemberTag.dormant).is_(False))
        .group_by(col(Topic.slug))
        .order_by(count.desc(), col(Topic.slug))
    )
    return [(slug, int(n)) for slug, n in rows.all()]


async def suggestions(session: AsyncSession, community_id: int, slug: str) -> list[str]:
    """Return up to three directory topics (or aliases) close to a slug: "did you mean …"."""
    held = (
        select(MemberTag.id)
        .where(col(MemberTag.topic_id) == col(Topic.id), col(MemberTag.dormant).is_(False))
        .exists()
    )
    # One index probe per topic, rather than counting every tag of the community.
    names = list(
        (
            await session.exec(select(Topic.slug).where(Topic.community_id == community_id, held))
        ).all()
    )
    aliases = await session.exec(
        select(TopicAlias.alias).where(TopicAlias.community_id == community_id)
    )
    close = difflib.get_close_matches(slug, names + list(aliases.all()), n=3, cutoff=0.7)
    prefixed = sorted(n for n in names if slug and (n.startswith(slug) or slug.startswith(n)))
    # The slug itself is held when only the asker has it: "did you mean #x?" about #x helps no one.
    return [n for n in dict.fromkeys(close + prefixed) if n != slug][:3]


def hashtags(topics: list[str]) -> str:
    """Return topics as `#a, #b and #c`."""
    tags = [f"#{t}" for t in topics]
    return tags[0] if len(tags) == 1 else ", ".join(tags[:-1]) + " and " + tags[-1]


def people(members: list[Member]) -> Rich:
    """Mention members as `@a, @b and @c`."""
    parts: list[Rich] = []
    for index, person in enumerate(members):
        glue = ", " if index < len(members) - 2 else (" and " if index == len(members) - 2 else "")
        parts.append(rich(Mention(person.external_id, person.display_name), glue))
    return rich(*parts)


def parse_topics_and_note(text: str) -> tuple[list[str], str]:
    """Split `python, "machine learning", go  my note` into topics and a note.

    Topics are single words (or quoted phrases) joined by commas; whatever follows the last one
    is the note, so `career-change` and `"career change"` are both one topic.
    """
    rest = text.strip()
    raws: list[str] = []
    while rest:
        match = re.match(r'\s*(?:"([^"]*)"|([^\s,]+))\s*', rest)
        if match is None:
            break
        raws.append(match.group(1) if match.group(1) is not None else match.group(2))
        rest = rest[match.end() :]
        if rest.startswith(","):
            rest = rest[1:]
            continue
        break
    note = rest.strip().lstrip(":-–—|").strip()
    return raws, note


def parse_until(text: str, now: datetime) -> datetime:
    """Return when a pause ends: `2w`, `10d`, or a date like 2026-12-24."""
    too_long = rich("Pauses last at most a year; ", Code("/askme remove"), " is there for longer.")
    return pause_end(text, now, PAUSE_MAX, too_long=too_long)


# ---- availability -----------------------------------------------------------------------------


async def profile_for(session: AsyncSession, member: Member) -> TagProfile:
    """Return the member's availability row, creating it with the defaults."""
    found = await session.get(TagProfile, member.id)
    if found is None:
        found = TagProfile(
            member_id=member.id or 0, community_id=member.community_id, last_asked_at=NEVER
        )
        session.add(found)
        await session.flush()
    return found


def cap_of(profile: TagProfile | None) -> int:
    """Return how many asks a week someone takes."""
    if profile is None or profile.weekly_cap is None:
        return DEFAULT_WEEKLY_CAP
    return profile.weekly_cap


def paused(profile: TagProfile | None, now: datetime) -> bool:
    """Tell whether someone is on a break from asks."""
    return bool(profile and profile.paused_until and profile.paused_until > now)


async def asks_this_week(
    session: AsyncSession, member_ids: list[int], now: datetime
) -> dict[int, int]:
    """Return how many times each member was asked in the rolling week."""
    if not member_ids:
        return {}
    rows = await session.exec(
        select(TagAsk.member_id, func.count())
        .where(col(TagAsk.member_id).in_(member_ids), col(TagAsk.created_at) > now - CAP_WINDOW)
        .group_by(col(TagAsk.member_id))
    )
    return {member_id: int(n) for member_id, n in rows.all()}


async def has_room(session: AsyncSession, member: Member, now: datetime) -> bool:
    """Tell whether a member is under their weekly cap."""
    profile = await session.get(TagProfile, member.id)
    asked = (await asks_this_week(session, [member.id or 0], now)).get(member.id or 0, 0)
    return asked < cap_of(profile)


async def set_pause(session: AsyncSession, member: Member, until: datetime | None) -> None:
    """Pause (or resume, with None) a member, on their profile and every tag they hold."""
    profile = await profile_for(session, member)
    profile.paused_until = until
    session.add(profile)
    await session.exec(  # type: ignore[call-overload]
        update(MemberTag).where(col(MemberTag.member_id) == member.id).values(paused_until=until)
    )


async def record_ask(
    session: AsyncSession,
    member: Member,
    now: datetime,
    *,
    kind: str,
    asker_id: int | None = None,
    question_id: int | None = None,
) -> None:
    """Count an ask against a member's cap and move them to the back of the rotation."""
    session.add(
        TagAsk(
            community_id=member.community_id,
            member_id=member.id or 0,
            asker_id=asker_id,
            question_id=question_id,
            kind=kind,
            created_at=now,
        )
    )
    profile = await profile_for(session, member)
    profile.last_asked_at = now
    session.add(profile)
    await session.exec(  # type: ignore[call-overload]
        update(MemberTag).where(col(MemberTag.member_id) == member.id).values(last_asked_at=now)
    )


# ---- ranking ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """Someone tagged with a topic who has time now."""

    member_id: int
    topic: str
    note: str
    last_asked_at: datetime
    helped: int
    row: Any  # the page row, to build the member from once they're chosen

    @property
    def member(self) -> Member:
        """Return the member (a detached row: enough to mention and to record an ask)."""
        return Member(
            id=self.member_id,
            community_id=self.row.community_id,
            external_id=self.row.external_id,
            display_name=self.row.display_name,
        )


@dataclass(frozen=True)
class Availability:
    """Who has time for some topics, best first, and how many are tagged at all.

    `tagged` is counted only when nobody has time (it is what the "everyone is busy" message
    needs); otherwise it is the number of people found, a lower bound.
    """

    people: list[Candidate]
    tagged: int


async def _tagged(session: AsyncSession, topic_id_list: list[int], exclude: set[int]) -> int:
    if not topic_id_list:
        return 0
    query = select(func.count(func.distinct(MemberTag.member_id))).where(
        col(MemberTag.topic_id).in_(topic_id_list), col(MemberTag.dormant).is_(False)
    )
    if exclude:
        query = query.where(col(MemberTag.member_id).not_in(exclude))
    return int((await session.exec(query)).one())


# Answers credited as the most helpful, counted per row read (an index probe each).
_HELPED = (
    select(func.count())
    .where(col(Question.helped_by_id) == col(MemberTag.member_id))
    .correlate(MemberTag)
    .scalar_subquery()
    .label("helped")
)


def _page_query(topic_id: int, now: datetime, size: int, after: tuple[datetime, int] | None) -> Any:
    """Select one page of a topic's free tags, least recently asked first (one index range)."""
    query = (
        select(
            MemberTag.topic_id,
            MemberTag.member_id,
            MemberTag.note,
            MemberTag.last_asked_at,
            Member.external_id,
            Member.display_name,
            Member.community_id,
            _HELPED,
        )
        .join(Member, col(Member.id) == col(MemberTag.member_id))
        .where(
            MemberTag.topic_id == topic_id,
            col(MemberTag.dormant).is_(False),
            (col(MemberTag.paused_until).is_(None)) | (col(MemberTag.paused_until) <= now),
        )
        .order_by(col(MemberTag.last_asked_at), col(MemberTag.member_id))
        .limit(size)
    )
    if after is not None:
        query = query.where(
            tuple_(col(MemberTag.last_asked_at), col(MemberTag.member_id)) > tuple_(*after)
        )
    return query


async def _over_cap(session: AsyncSession, rows: list[Any], now: datetime) -> set[int]:
    """Return who among the rows has had their week's asks (one query; none if nobody is recent)."""
    since = now - CAP_WINDOW
    # Nobody last asked before the week began can be at their cap.
    recent = list({row.member_id for row in rows if row.last_asked_at > since})
    if not recent:
        return set()
    counted = await session.exec(
        select(TagAsk.member_id, func.count(), TagProfile.weekly_cap)
        .outerjoin(TagProfile, col(TagProfile.member_id) == col(TagAsk.member_id))
        .where(col(TagAsk.member_id).in_(recent), col(TagAsk.created_at) > since)
        .group_by(col(TagAsk.member_id), col(TagProfile.weekly_cap))
    )
    return {
        member_id
        for member_id, asked, cap in counted.all()
        if asked >= (DEFAULT_WEEKLY_CAP if cap is None else cap)
    }


def _candidate(row: Any, slug: str) -> Candidate:
    return Candidate(row.member_id, slug, row.note, row.last_asked_at, int(row.helped), row)


async def _free_people(
    session: AsyncSession,
    ids: dict[str, int],
    now: datetime,
    *,
    limit: int,
    exclude: set[int],
) -> list[Candidate]:
    """Walk each topic's tags least recently asked first, keeping people under their cap.

    The first page of every topic comes in one query (UNION ALL): a handful of round trips per
    decision whatever the number of topics. Later pages are only read for a topic whose first
    page was all paused-out, capped or excluded.
    """
    slug_of = {topic_id: slug for slug, topic_id in ids.items()}
    first = max(limit * 4, 12)
    pages = [_page_query(topic_id, now, first, None).subquery() for topic_id in slug_of]
    if not pages:
        return []
    rows = list((await session.exec(union_all(*[select(page) for page in pages]))).all())  # type: ignore[call-overload]
    found: list[Candidate] = []
    by_topic: dict[int, list[Any]] = {topic_id: [] for topic_id in slug_of}
    for row in rows:
        by_topic[row.topic_id].append(row)
    capped = await _over_cap(session, rows, now)
    for topic_id, topic_rows in by_topic.items():
        keep = [
            _candidate(r, slug_of[topic_id])
            for r in topic_rows
            if r.member_id not in exclude and r.member_id not in capped
        ]
        after = (topic_rows[-1].last_asked_at, topic_rows[-1].member_id) if topic_rows else None
        more = len(topic_rows) == first
        for _ in range(_PAGES_MAX):
            if len(keep) >= limit or not more:
                break
            page = list((await session.exec(_page_query(topic_id, now, _PAGE, after))).all())
            if not page:
                break
            after, more = (page[-1].last_asked_at, page[-1].member_id), len(page) == _PAGE
            capped = await _over_cap(session, page, now)
            keep += [
                _candidate(r, slug_of[topic_id])
                for r in page
                if r.member_id not in exclude and r.member_id not in capped
            ]
        found += keep[:limit]
    return found


async def available(
    session: AsyncSession,
    community_id: int,
    slugs: list[str],
    now: datetime,
    *,
    limit: int,
    exclude: set[int] | frozenset[int] = frozenset(),
    ids: dict[str, int] | None = None,
) -> Availability:
    """Return up to `limit` people with time for any of `slugs`, best first.

    Best first: least recently asked (fair rotation), then those whose answers helped most.
    Paused, dormant, over-cap and excluded people never appear. `ids` saves a query when the
    caller already resolved the topics.
    """
    if ids is None:
        ids = await existing_topic_ids(session, community_id, slugs)
    # Keep the caller's topic order, so a person tagged with two of them is named by the first.
    ids = {slug: ids[slug] for slug in slugs if slug in ids}
    excluded = set(exclude)
    merged: dict[int, Candidate] = {}
    for person in await _free_people(session, ids, now, limit=limit, exclude=excluded):
        key = person.member_id
        if key not in merged or person.last_asked_at < merged[key].last_asked_at:
            merged[key] = person
    ranked = sorted(merged.values(), key=lambda c: (c.last_asked_at, -c.helped, c.member_id))
    if ranked:
        return Availability(ranked[:limit], len(ranked))
    return Availability([], await _tagged(session, list(ids.values()), excluded))


async def related_topics(
    session: AsyncSession, community_id: int, slugs: list[str], *, limit: int = 3
) -> list[str]:
    """Return topics people tagged with `slugs` also know about, most shared first."""
    ids = list((await existing_topic_ids(session, community_id, slugs)).values())
    if not ids:
        return []
    holders = (
        select(MemberTag.member_id)
        .where(col(MemberTag.topic_id).in_(ids), col(MemberTag.dormant).is_(False))
        .limit(1000)
        .subquery()
    )
    count = func.count()
    rows = await session.exec(
        select(Topic.slug, count)
        .join(MemberTag, col(MemberTag.topic_id) == col(Topic.id))
        .where(
            col(MemberTag.member_id).in_(select(holders.c.member_id)),
            col(MemberTag.topic_id).not_in(ids),
            col(MemberTag.dormant).is_(False),
        )
        .group_by(col(Topic.slug))
        .order_by(count.desc(), col(Topic.slug))
        .limit(limit)
    )
    return [slug for slug, _ in rows.all()]


def busy_line(topics: list[str], tagged: int) -> Rich:
    """Say kindly that everyone tagged is busy (or that nobody is tagged yet)."""
    if tagged == 1:
        return rich(
            "The one person who knows ",
            Bold(hashtags(topics)),
            " is paused or has had all the asks they want this week.",
        )
    if tagged:
        return rich(
            f"All {tagged} people who know ",
            Bold(hashtags(topics)),
            " are paused or have had all the asks they want this week.",
        )
    return rich("Nobody has said they're happy to be asked about ", Bold(hashtags(topics)), " yet.")


def knows(members: list[Member]) -> str:
    """Return "knows" or "know" to follow a list of people."""
    return "knows" if len(members) == 1 else "know"


# ---- routing questions to people --------------------------------------------------------------


async def _already_asked(session: AsyncSession, question_id: int) -> set[int]:
    rows = await session.exec(select(TagAsk.member_id).where(TagAsk.question_id == question_id))
    return set(rows.all())


async def _notify(
    ctx: Context, question: Question, person: Candidate, topics: list[str], *, related: bool
) -> None:
    """Ping one person about a question (once: the outbox key and the ask row are unique)."""
    member = person.member
    await record_ask(
        ctx.session,
        member,
        ctx.now(),
        kind=AskKind.QUESTION,
        asker_id=None if question.anonymous else question.asker_id,
        question_id=question.id,
    )
    why = (
        rich(" It's about ", Bold(hashtags(topics)), ", close to ", Bold(f"#{person.topic}"),
             ", which you're happy to be asked about.")
        if related
        else rich(" You said you're happy to be asked about ", Bold(f"#{person.topic}"), ".")
    )  # fmt: skip
    await ctx.send(
        f"tags:route:{question.id}:{member.id}",
        DeliveryKind.DIRECT,
        Reply(
            text=rich("👋 A question you might be able to help with.", why),
            sections=(
                Section(body=rich(Quote(question.text))),
                Section(
                    body=rich(
                        "It's ", Bold(f"question #{question.number}"), " in ",
                        ChannelLink(question.channel_id), "; answers go in its thread. "
                        "Not a good week? ", Code("/askme pause 1w"), " or ", Code("/askme limit"),
                        ".",
                    )
                ),
            ),
            visibility=Visibility.DIRECT,
        ),
        recipient_ids=(member.external_id,),
        member_id=member.id,
    )  # fmt: skip


async def route_question(
    ctx: Context, question: Question, topics: list[str], *, widen: bool
) -> tuple[list[Member], Availability, list[str]]:
    """Ask the next few people with time for a question's topics; widen to related topics.

    Returns who was asked, the availability for the question's own topics, and the related
    topics used (empty unless widening had to go beyond the question's topics).
    """
    assert question.id is not None
    resolved = await resolve_topics(ctx.session, ctx.community_id, topics)
    slugs = list(resolved)
    exclude = await _already_asked(ctx.session, question.id)
    if question.asker_id is not None:
        exclude.add(question.asker_id)
    found = await available(
        ctx.session,
        ctx.community_id,
        slugs,
        ctx.now(),
        limit=ROUTE_COUNT,
        exclude=exclude,
        ids={s: i for s, i in resolved.items() if i is not None},
    )
    chosen, related = found.people, []
    if not chosen and widen:
        related = await related_topics(ctx.session, ctx.community_id, slugs)
        nearby = await available(
            ctx.session, ctx.community_id, related, ctx.now(), limit=ROUTE_COUNT, exclude=exclude
        )
        chosen = nearby.people
        related = sorted({c.topic for c in chosen})
    for person in chosen:
        await _notify(ctx, question, person, slugs, related=bool(related))
    return [c.member for c in chosen], found, related
