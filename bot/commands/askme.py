"""`/askme`: tag yourself as happy to be asked about topics, with your own pause and limit.

Also `/crowdmentor profile`, and the periodic "still happy to be asked about X?" that keeps the
directory fresh: tags nobody re-confirms go dormant (not shown, not pinged) until kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, func, select

from bot.adapters.base import DeliveryKind
from bot.args import UserRef
from bot.commands import _tags as tags
from bot.commands import coffee
from bot.commands._buttons import button_id
from bot.commands._pause import PAUSE_UNTIL
from bot.commands._people import known_person
from bot.context import Context
from bot.errors import BadArgumentsError, NotFoundError, PermissionDeniedError
from bot.registry import (
    Param,
    ParamKind,
    action,
    command,
    group,
    on_export,
    on_forget,
    on_timer,
)
from bot.replies import Bold, Button, ButtonStyle, Code, Italic, Mention, Reply, Rich, Section, rich
from bot.store.models import Member, Timer, Topic
from bot.store.repositories import topic_ids
from bot.store.tag_models import NEVER, MemberTag, TagAsk, TagProfile
from bot.text import defuse_mass_mentions

ASKME = group("askme", summary="Say what you're happy to be asked about, and how often")

KEEP_ACTION = "askme.keep"
REMOVE_ACTION = "askme.remove"
REFRESH_TIMER = "tags.refresh"
DORMANT_TIMER = "tags.dormant"
# Keep/Remove pairs in one "still happy?" message (platforms allow about 25 buttons).
_REFRESH_BATCH = 5


def _day(when: datetime) -> str:
    return when.strftime("%Y-%m-%d")


async def _my_tags(ctx: Context, member: Member) -> list[tuple[MemberTag, str]]:
    rows = await ctx.session.exec(
        select(MemberTag, Topic.slug)
        .join(Topic, col(Topic.id) == col(MemberTag.topic_id))
        .where(MemberTag.member_id == member.id)
        .order_by(col(Topic.slug))
    )
    return list(rows.all())


def _me(ctx: Context) -> Member:
    assert ctx.member is not None
    return ctx.member


async def arm_refresh(ctx: Context, member: Member) -> None:
    """Arm the member's next "still happy to be asked?" for their oldest unconfirmed tag."""
    oldest = (
        await ctx.session.exec(
            select(func.min(MemberTag.confirmed_at)).where(
                MemberTag.member_id == member.id,
                col(MemberTag.dormant).is_(False),
                col(MemberTag.confirm_asked_at).is_(None),
            )
        )
    ).one()
    key = f"tags:refresh:{member.id}"
    if oldest is None:
        await ctx.cancel_timer(key)
        return
    # Never in the past: a tag older than the period is asked about within the hour.
    due = max(oldest + tags.REFRESH_AFTER, ctx.now() + timedelta(hours=1))
    await ctx.set_timer(key, REFRESH_TIMER, member.id or 0, due)


# ---- /askme -----------------------------------------------------------------------------------


@command(
    "askme",
    "add",
    summary="Be asked about topics, with an optional note: python, go Happy to review code",
    params=(
        Param(
            "topics",
            ParamKind.TEXT,
            "Topics separated by commas, then an optional short note",
            required=True,
        ),
    ),
    examples=(
        "/askme add python",
        "/askme add interviews, career-change I switched from teaching at 35",
        '/askme add "machine learning" Mostly recommender systems',
    ),
)
async def add(ctx: Context, topics: str) -> Reply:
    """Tag the member with topics (or refresh tags they already have)."""
    me = _me(ctx)
    raws, note = tags.parse_topics_and_note(topics)
    if not raws:
        raise BadArgumentsError(rich("Name a topic, e.g. ", Code("/askme add python"), "."))
    if len(raws) > tags.TOPICS_PER_ADD:
        raise BadArgumentsError(
            f"That's {len(raws)} topics at once; add at most {tags.TOPICS_PER_ADD} at a time, "
            "the ones you'd most like to be asked about. Nothing was saved."
        )
    if len(note) > tags.NOTE_MAX_CHARS:
        raise BadArgumentsError(
            f"Notes are at most {tags.NOTE_MAX_CHARS} characters (yours has {len(note):,}): "
            "a line on what you can help with. Nothing was saved."
        )
    slugs = await tags.canonical_topics(ctx.session, ctx.community_id, raws)
    held = {slug: tag for tag, slug in await _my_tags(ctx, me)}
    new = [s for s in slugs if s not in held]
    if len(held) + len(new) > tags.TAGS_PER_MEMBER:
        raise BadArgumentsError(
            f"You'd have {len(held) + len(new)} topics; the limit is {tags.TAGS_PER_MEMBER}, so "
            "people can tell what you know best. Remove some first. Nothing was saved."
        )
    # Say "did you mean" before the topic exists, or it would suggest itself.
    hints: list[Rich] = []
    known = await tags.existing_topic_ids(ctx.session, ctx.community_id, new)
    for slug in new:
        if slug not in known and (
            close := await tags.suggestions(ctx.session, ctx.community_id, slug)
        ):
            hints.append(
                rich(
                    "#", slug, " is new here. Did you mean ",
                    Bold(tags.hashtags(close)), "? ",
                    Code(f"/askme remove {slug}"), " if so.\n",
                )
            )  # fmt: skip
    note = defuse_mass_mentions(note)
    now = ctx.now()
    profile = await tags.profile_for(ctx.session, me)
    ids = await topic_ids(ctx.session, ctx.community, slugs, now)
    for slug in slugs:
        tag = held.get(slug)
        if tag is None:
            tag = MemberTag(
                community_id=ctx.community_id,
                member_id=me.id or 0,
                topic_id=ids[slug],
                created_at=now,
                confirmed_at=now,
                paused_until=profile.paused_until,
                last_asked_at=profile.last_asked_at,
            )
        if note:
            tag.note = note
        tag.dormant, tag.confirmed_at, tag.confirm_asked_at = False, now, None
        ctx.session.add(tag)
    await ctx.session.flush()
    await arm_refresh(ctx, me)
    said = rich("You're in the directory for ", Bold(tags.hashtags(slugs)), ".")
    if note:
        said += rich(" Your note: ", note)
    sections = [Section(body=rich(*hints))] if hints else []
    sections.append(
        Section(
            body=rich(
                f"People may ask you at most {tags.cap_of(profile)} times a week (",
                Code("/askme limit"),
                " changes that; ",
                Code("/askme pause 2w"),
                " takes a break).",
            )
        )
    )
    return Reply(text=said, sections=tuple(sections))


@command(
    "askme",
    "remove",
    summary="Stop being asked about topics",
    params=(Param("topics", ParamKind.TEXT, "Topics separated by commas", required=True),),
)
async def remove(ctx: Context, topics: str) -> Reply:
    """Remove tags."""
    me = _me(ctx)
    raws = [r for r in (piece.strip() for piece in topics.split(",")) if r]
    if len(raws) > tags.TAGS_PER_MEMBER:
        raise BadArgumentsError(f"You hold at most {tags.TAGS_PER_MEMBER} topics. Nothing changed.")
    slugs = await tags.canonical_topics(ctx.session, ctx.community_id, raws)
    held = {slug: tag for tag, slug in await _my_tags(ctx, me)}
    missing = [s for s in slugs if s not in held]
    if missing:
        raise NotFoundError(
            rich(
                "You aren't tagged with ",
                Bold(tags.hashtags(missing)),
                ". ",
                Code("/askme list"),
                " shows yours. Nothing changed.",
            )
        )
    for slug in slugs:
        await ctx.session.delete(held[slug])
    await ctx.session.flush()
    await arm_refresh(ctx, me)
    return Reply.say("Removed ", Bold(tags.hashtags(slugs)), ". Nobody will ask you about it now.")


async def _status_lines(ctx: Context, member: Member) -> Rich:
    profile = await ctx.session.get(TagProfile, member.id)
    now = ctx.now()
    asked = (await tags.asks_this_week(ctx.session, [member.id or 0], now)).get(member.id or 0, 0)
    state = (
        rich("paused until ", Bold(_day(profile.paused_until)))  # type: ignore[union-attr,arg-type]
        if tags.paused(profile, now)
        else rich(Bold("available"))
    )
    return rich(
        "• You are ", state, "\n",
        f"• Limit: {tags.cap_of(profile)} asks a week (asked {asked} times in the last 7 days)",
    )  # fmt: skip


def _tag_line(tag: MemberTag, slug: str, *, own: bool) -> Rich:
    line = rich("• ", Bold(f"#{slug}"))
    if tag.note:
        line += rich(": ", tag.note)
    if own and tag.dormant:
        line += rich(" ", Italic(f"(dormant: /askme add {slug} to show it again)"))
    return line + rich("\n")


@command("askme", "list", summary="See your topics, notes, pause and limit")
async def list_(ctx: Context) -> Reply:
    """List the member's tags and availability."""
    me = _me(ctx)
    mine = await _my_tags(ctx, me)
    if not mine:
        return Reply.say(
            "You haven't tagged yourself yet. Try ",
            Code("/askme add python"),
            " with the topics you're happy to be asked about.",
        )
    lines = [_tag_line(tag, slug, own=True) for tag, slug in mine]
    return Reply(
        text=rich(Bold("You're happy to be asked about")),
        sections=(Section(body=rich(*lines)), Section(body=await _status_lines(ctx, me))),
    )


@command(
    "askme",
    "pause",
    summary="Take a break from asks until a date (2026-12-24) or for a while (2w)",
    params=(PAUSE_UNTIL,),
)
async def pause(ctx: Context, until: str) -> Reply:
    """Pause asks."""
    me = _me(ctx)
    end = tags.parse_until(until, ctx.now())
    await tags.set_pause(ctx.session, me, end)
    return Reply.say(
        "Paused until ", Bold(_day(end)), ": nobody will be pointed your way. Enjoy the break!"
    )


@command("askme", "resume", summary="End a pause: be asked again")
async def resume(ctx: Context) -> Reply:
    """Resume asks."""
    await tags.set_pause(ctx.session, _me(ctx), None)
    return Reply.say("Welcome back: people can find you again.")


@command(
    "askme",
    "limit",
    summary="How many asks a week you take (question pings and coffee requests)",
    params=(
        Param(
            "asks",
            ParamKind.INT,
            f"Asks per week (1-{tags.CAP_MAX})",
            required=True,
            min_value=1,
            max_value=tags.CAP_MAX,
        ),
    ),
)
async def limit(ctx: Context, asks: int) -> Reply:
    """Set the weekly cap."""
    profile = await tags.profile_for(ctx.session, _me(ctx))
    profile.weekly_cap = asks
    ctx.session.add(profile)
    times = "once" if asks == 1 else f"{asks} times"
    return Reply.say("Got it: you'll be asked at most ", Bold(times), " a week.")


# ---- /crowdmentor profile ---------------------------------------------------------------------


@command(
    "crowdmentor",
    "profile",
    summary="See what someone is happy to be asked about (yours: also pause and limit)",
    params=(Param("person", ParamKind.USER, "Whose profile (you, if left out)"),),
)
async def profile(ctx: Context, person: UserRef | None = None) -> Reply:
    """Show a member's tags and notes; one's own also shows pause and limit."""
    me = _me(ctx)
    target = me if person is None else await known_person(ctx, person)
    if target is None:
        raise NotFoundError(
            rich("I don't know ", Code(f"@{person.name or person.user_id}" if person else ""),
                 " here. They may have left, or haven't used crowdmentor yet.")
        )  # fmt: skip
    own = target.id == me.id
    mine = [(t, s) for t, s in await _my_tags(ctx, target) if own or not t.dormant]
    who = rich(Mention(target.external_id, target.display_name))
    if not mine:
        body = (
            rich("No topics yet. ", Code("/askme add python"), " adds one.")
            if own
            else rich("They haven't said what they're happy to be asked about.")
        )
        sections = [Section(body=body)]
    else:
        sections = [
            Section(
                heading=rich(Bold("Happy to be asked about")),
                body=rich(*[_tag_line(t, s, own=own) for t, s in mine]),
            )
        ]
    if own:
        sections.append(Section(body=await _status_lines(ctx, target)))
    elif mine:
        sections.append(
            Section(body=rich(Code(f"/coffee @{target.display_name} {mine[0][1]}"),
                              " asks them for a short chat about a topic."))
        )  # fmt: skip
    return Reply(text=rich(Bold("Profile of "), who), sections=tuple(sections))


# ---- keeping the directory fresh --------------------------------------------------------------


@on_timer(REFRESH_TIMER)
async def ask_to_refresh(ctx: Context, timer: Timer) -> None:
    """Ask a member whether they're still happy to be asked about their oldest topics."""
    person = await ctx.session.get(Member, timer.subject_id)
    if person is None:
        return
    now = ctx.now()
    due = [
        (tag, slug)
        for tag, slug in await _my_tags(ctx, person)
        if not tag.dormant
        and tag.confirm_asked_at is None
        and tag.confirmed_at + tags.REFRESH_AFTER <= now + timedelta(days=1)
    ][:_REFRESH_BATCH]
    if due:
        for tag, _ in due:
            tag.confirm_asked_at = now
            ctx.session.add(tag)
        buttons: list[Button] = []
        for tag, slug in due:
            buttons.append(
                Button(KEEP_ACTION, f"Keep #{slug}"[:70], str(tag.id), ButtonStyle.PRIMARY)
            )
            buttons.append(Button(REMOVE_ACTION, f"Remove #{slug}"[:70], str(tag.id)))
        await ctx.send(
            f"tags:refresh:{person.id}:{int(now.timestamp())}",
            DeliveryKind.DIRECT,
            Reply(
                text=rich(
                    "Still happy to be asked about ", Bold(tags.hashtags([s for _, s in due])), "?"
                ),
                sections=(
                    Section(
                        body=rich(
                            "A quick check so the directory stays true. If I don't hear back in "
                            f"{tags.REFRESH_GRACE.days} days I'll hide these until you keep them."
                        )
                    ),
                ),
                buttons=tuple(buttons),
            ),
            recipient_ids=(person.external_id,),
            member_id=person.id,
        )
        await ctx.set_timer(
            f"tags:dormant:{person.id}", DORMANT_TIMER, person.id or 0, now + tags.REFRESH_GRACE
        )
    await arm_refresh(ctx, person)


@on_timer(DORMANT_TIMER)
async def make_dormant(ctx: Context, timer: Timer) -> None:
    """Hide tags whose "still happy?" went unanswered."""
    cutoff = ctx.now() - tags.REFRESH_GRACE + timedelta(minutes=1)
    await ctx.session.exec(  # type: ignore[call-overload]
        update(MemberTag)
        .where(
            col(MemberTag.member_id) == timer.subject_id,
            col(MemberTag.confirm_asked_at) <= cutoff,
        )
        .values(dormant=True)
    )


async def _pressed_tag(ctx: Context, value: str) -> tuple[MemberTag, str]:
    tag = await ctx.session.get(MemberTag, button_id(value))
    if tag is None:
        raise NotFoundError("That topic is already gone from your profile.")
    if tag.member_id != _me(ctx).id:
        raise PermissionDeniedError("That button belongs to someone else. Nothing was changed.")
    topic = await ctx.session.get(Topic, tag.topic_id)
    return tag, topic.slug if topic else "?"


@action(KEEP_ACTION)
async def keep(ctx: Context, value: str) -> Reply:
    """Keep a tag (and bring it back if it had gone dormant)."""
    tag, slug = await _pressed_tag(ctx, value)
    tag.dormant, tag.confirmed_at, tag.confirm_asked_at = False, ctx.now(), None
    ctx.session.add(tag)
    await ctx.session.flush()
    await arm_refresh(ctx, _me(ctx))
    return Reply.say("Kept ", Bold(f"#{slug}"), ". Thank you!")


@action(REMOVE_ACTION)
async def remove_button(ctx: Context, value: str) -> Reply:
    """Remove a tag from the "still happy?" question."""
    tag, slug = await _pressed_tag(ctx, value)
    await ctx.session.delete(tag)
    await ctx.session.flush()
    await arm_refresh(ctx, _me(ctx))
    return Reply.say("Removed ", Bold(f"#{slug}"), ". Thanks for keeping the directory true.")


# ---- privacy ----------------------------------------------------------------------------------


@on_export("tags")
async def export_tags(ctx: Context, person: Member) -> dict[str, Any]:
    """Return the member's tags, availability, asks and coffee requests."""
    availability = await ctx.session.get(TagProfile, person.id)
    asks = await ctx.session.exec(
        select(TagAsk).where(TagAsk.member_id == person.id).order_by(col(TagAsk.id))
    )
    made = await ctx.session.exec(select(func.count()).where(TagAsk.asker_id == person.id))
    return {
        "topics": [
            {
                "topic": slug,
                "note": tag.note,
                "added_at": tag.created_at.isoformat(),
                "confirmed_at": tag.confirmed_at.isoformat(),
                "still_happy_asked_at": tag.confirm_asked_at.isoformat()
                if tag.confirm_asked_at
                else None,
                "dormant": tag.dormant,
            }
            for tag, slug in await _my_tags(ctx, person)
        ],
        "availability": {
            "paused_until": availability.paused_until.isoformat()
            if availability and availability.paused_until
            else None,
            "weekly_limit": tags.cap_of(availability),
            "last_asked_at": availability.last_asked_at.isoformat()
            if availability and availability.last_asked_at != NEVER
            else None,
        },
        "times_asked": [
            {"kind": a.kind, "question_id": a.question_id, "at": a.created_at.isoformat()}
            for a in asks.all()
        ],
        "asks_you_caused": int(made.one()),
        "coffee": await coffee.export_member(ctx, person),
    }


@on_forget("tags")
async def forget_tags(ctx: Context, person: Member) -> dict[str, int]:
    """Delete the member's tags, availability, asks, coffee requests and their timers."""
    removed = await ctx.session.exec(  # type: ignore[call-overload]
        delete(MemberTag).where(col(MemberTag.member_id) == person.id)
    )
    await ctx.session.exec(  # type: ignore[call-overload]
        delete(TagProfile).where(col(TagProfile.member_id) == person.id)
    )
    await ctx.session.exec(  # type: ignore[call-overload]
        delete(TagAsk).where(col(TagAsk.member_id) == person.id)
    )
    await ctx.session.exec(  # type: ignore[call-overload]
        update(TagAsk).where(col(TagAsk.asker_id) == person.id).values(asker_id=None)
    )
    await ctx.session.exec(  # type: ignore[call-overload]
        delete(Timer).where(
            col(Timer.community_id) == ctx.community_id,
            col(Timer.kind).in_([REFRESH_TIMER, DORMANT_TIMER]),
            col(Timer.subject_id) == person.id,
        )
    )
    requests = await coffee.forget_member(ctx, person)
    return {"topic tags": removed.rowcount, "coffee requests": requests}
