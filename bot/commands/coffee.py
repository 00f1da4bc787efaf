"""`/coffee @person <topic> [message]`: ask someone for a short, specific chat.

"Not now" is private and gentle: the requester only ever hears "not available right now".
Requests count against the same weekly cap as question pings and expire after a week.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, or_
from sqlmodel import col, func, select

from bot.adapters.base import DeliveryKind
from bot.args import UserRef
from bot.commands import _tags as tags
from bot.commands._buttons import community_row
from bot.commands._people import known_person, mention
from bot.context import Context
from bot.errors import BadArgumentsError, NotFoundError, PermissionDeniedError, UserError
from bot.registry import Param, ParamKind, action, command, on_timer
from bot.replies import (
    Bold,
    Button,
    ButtonStyle,
    Code,
    Quote,
    Reply,
    Rich,
    Section,
    Visibility,
    rich,
)
from bot.store.models import Member, Timer, Topic
from bot.store.repositories import topic_ids
from bot.store.tag_models import AskKind, CoffeeRequest, CoffeeStatus, MemberTag, TagProfile
from bot.text import defuse_mass_mentions

ACCEPT_ACTION = "coffee.accept"
NOT_NOW_ACTION = "coffee.not_now"
EXPIRE_TIMER = "coffee.expire"
# Tuning (candidates for config/default.toml [tags]): how long a request waits for an answer,
# and for how long two "not now"s to the same person stop further requests from them.
EXPIRES_AFTER = timedelta(days=7)
NOT_NOW_LIMIT = 2
NOT_NOW_WINDOW = timedelta(days=90)
MESSAGE_MAX_CHARS = 500


def _gentle(person: Member, topic: str) -> Rich:
    return rich(
        mention(person),
        " isn't available right now. ",
        Code(f"/whoknows {topic}"),
        " shows who has time this week.",
    )


async def _recent_not_nows(ctx: Context, requester: Member, recipient: Member) -> int:
    query = select(func.count()).where(
        CoffeeRequest.requester_id == requester.id,
        CoffeeRequest.recipient_id == recipient.id,
        CoffeeRequest.status == CoffeeStatus.NOT_NOW,
        col(CoffeeRequest.answered_at) > ctx.now() - NOT_NOW_WINDOW,
    )
    return int((await ctx.session.exec(query)).one())


@command(
    "coffee",
    summary="Ask someone for a short chat about one topic",
    params=(
        Param("person", ParamKind.USER, "Who you'd like to talk to", required=True),
        Param("topic", ParamKind.WORD, "The one topic, like interviews", required=True),
        Param("message", ParamKind.TEXT, "A line of context: what you'd like to talk about"),
    ),
    examples=("/coffee @ada interviews I have my first senior interview in two weeks",),
)
async def coffee(ctx: Context, person: UserRef, topic: str, message: str | None = None) -> Reply:
    """Send a coffee-chat request with Accept / Not now buttons."""
    assert ctx.member is not None
    me = ctx.member
    if ctx.actor is not None and ctx.actor.is_bot:
        raise PermissionDeniedError("Coffee requests are for people; bots can't send them.")
    message = (message or "").strip()
    if len(message) > MESSAGE_MAX_CHARS:
        raise BadArgumentsError(
            f"Keep the message to {MESSAGE_MAX_CHARS} characters (yours has {len(message):,}); "
            "the chat is the place for the rest. Nothing was sent."
        )
    slug = await tags.canonical(ctx.session, ctx.community_id, tags.check_topic(topic))
    other = await known_person(ctx, person)
    named = f"@{person.name or person.user_id}"
    if other is None:
        raise NotFoundError(
            rich(
                "I don't know ", Code(named), " here: they may have left, or it may be a bot. "
                "Coffee requests go to people who said they're happy to be asked: ",
                Code(f"/whoknows {slug}"), " shows them.",
            )
        )  # fmt: skip
    if other.id == me.id:
        raise BadArgumentsError(
            rich(
                "That's you! To find someone else to talk to about #", slug, ", try ",
                Code(f"/whoknows {slug}"), ".",
            )
        )  # fmt: skip
    offered = await ctx.session.exec(
        select(func.count()).where(
            MemberTag.member_id == other.id, col(MemberTag.dormant).is_(False)
        )
    )
    if not offered.one():
        raise UserError(
            rich(
                mention(other), " hasn't said they're happy to be asked about anything yet, so "
                "I won't send a request. ", Code(f"/whoknows {slug}"), " shows who has.",
            )
        )  # fmt: skip
    now = ctx.now()
    profile = await ctx.session.get(TagProfile, other.id)
    if tags.paused(profile, now):
        raise UserError(
            rich(
                mention(other), " is taking a break from requests right now. ",
                Code(f"/whoknows {slug}"), " shows who has time this week.",
            )
        )  # fmt: skip
    waiting = await ctx.session.exec(
        select(CoffeeRequest.id).where(
            CoffeeRequest.requester_id == me.id,
            CoffeeRequest.recipient_id == other.id,
            CoffeeRequest.status == CoffeeStatus.PENDING,
        )
    )
    if waiting.first() is not None:
        raise UserError(
            rich("Your earlier request to ", mention(other), " is still waiting for an answer.")
        )
    # Two "not now"s are an answer: say the same gentle thing as a "not now", and send nothing.
    if await _recent_not_nows(ctx, me, other) >= NOT_NOW_LIMIT:
        raise UserError(_gentle(other, slug))
    if not await tags.has_room(ctx.session, other, now):
        raise UserError(
            rich(
                mention(other), " has had all the requests they take this week. Try again next "
                "week, or ", Code(f"/whoknows {slug}"), " for someone with time now.",
            )
        )  # fmt: skip
    ids = await topic_ids(ctx.session, ctx.community, [slug], now)
    request = CoffeeRequest(
        community_id=ctx.community_id,
        requester_id=me.id or 0,
        recipient_id=other.id or 0,
        topic_id=ids[slug],
        message=defuse_mass_mentions(message),
        created_at=now,
    )
    ctx.session.add(request)
    await ctx.session.flush()
    await tags.record_ask(ctx.session, other, now, kind=AskKind.COFFEE, asker_id=me.id)
    sections = [Section(heading=rich(Bold("In their words")), body=rich(Quote(request.message)))]
    await ctx.send(
        f"tags:coffee:{request.id}",
        DeliveryKind.DIRECT,
        Reply(
            text=rich(
                "☕ ", mention(me), " would love 20 minutes of your time to talk about ",
                Bold(f"#{slug}"), ". Would you have time for a short chat?",
            ),
            sections=(
                *(sections if request.message else ()),
                Section(body=rich(
                    "“Not now” is fine and stays between us: they'll only hear you're not "
                    "available right now. The request expires in a week.")),
            ),
            buttons=(
                Button(ACCEPT_ACTION, "Accept", str(request.id), ButtonStyle.PRIMARY),
                Button(NOT_NOW_ACTION, "Not now", str(request.id)),
            ),
            visibility=Visibility.DIRECT,
        ),
        recipient_ids=(other.external_id,),
        member_id=other.id,
    )  # fmt: skip
    await ctx.set_timer(
        f"coffee:{request.id}:expire", EXPIRE_TIMER, request.id or 0, now + EXPIRES_AFTER
    )
    return Reply.say(
        "Sent! I asked ", mention(other), " whether they'd have 20 minutes about ",
        Bold(f"#{slug}"), ". If they accept, I'll start a conversation for you both; "
        "requests expire after a week.",
    )  # fmt: skip


async def _answerable(ctx: Context, value: str) -> tuple[CoffeeRequest, Member, str]:
    gone = "That request is no longer around. Nothing was changed."
    request = await community_row(ctx, CoffeeRequest, value, gone=gone)
    if ctx.member is None or request.recipient_id != ctx.member.id:
        raise PermissionDeniedError("Only the person who was asked can answer this request.")
    requester = await ctx.session.get(Member, request.requester_id)
    topic = await ctx.session.get(Topic, request.topic_id)
    if request.status != CoffeeStatus.PENDING or requester is None:
        state = {
            CoffeeStatus.ACCEPTED: "you already accepted it",
            CoffeeStatus.NOT_NOW: "you already answered it",
        }.get(CoffeeStatus(request.status), "it has expired")
        raise UserError(f"Nothing to do: {state}.")
    return request, requester, topic.slug if topic else "?"


@action(ACCEPT_ACTION)
async def accept(ctx: Context, value: str) -> Reply:
    """Accept: open a conversation for the two of them."""
    request, requester, slug = await _answerable(ctx, value)
    assert ctx.member is not None
    request.status, request.answered_at = CoffeeStatus.ACCEPTED, ctx.now()
    ctx.session.add(request)
    await ctx.cancel_timer(f"coffee:{request.id}:expire")
    context = (
        (Section(heading=rich(Bold("What it's about")), body=rich(Quote(request.message))),)
        if request.message
        else ()
    )
    await ctx.send(
        f"tags:coffee:{request.id}:chat",
        DeliveryKind.GROUP,
        Reply(
            text=rich(
                "☕ ", mention(requester), ", meet ", mention(ctx.member),
                ": a coffee chat about ", Bold(f"#{slug}"), ".",
            ),
            sections=(
                *context,
                Section(body=rich(
                    "Find 20 minutes that suits you both. Start with the one thing you'd most "
                    "like to know.")),
            ),
            visibility=Visibility.GROUP,
        ),
        recipient_ids=(requester.external_id, ctx.member.external_id),
        thread_title=f"Coffee: {requester.display_name} & {ctx.member.display_name}"[:100],
        member_id=requester.id,
    )  # fmt: skip
    return Reply.say("Lovely! I've started a conversation for you two. Enjoy the chat.")


@action(NOT_NOW_ACTION)
async def not_now(ctx: Context, value: str) -> Reply:
    """Not now: tell the requester gently, without any reason."""
    request, requester, slug = await _answerable(ctx, value)
    request.status, request.answered_at = CoffeeStatus.NOT_NOW, ctx.now()
    ctx.session.add(request)
    await ctx.cancel_timer(f"coffee:{request.id}:expire")
    assert ctx.member is not None
    await ctx.send(
        f"tags:coffee:{request.id}:answer",
        DeliveryKind.DIRECT,
        Reply(text=_gentle(ctx.member, slug), visibility=Visibility.DIRECT),
        recipient_ids=(requester.external_id,),
        member_id=requester.id,
    )
    return Reply.say(
        "No problem: they'll only hear you're not available right now. Busy for a while? ",
        Code("/askme pause 2w"),
        " takes a break from all requests.",
    )


@on_timer(EXPIRE_TIMER)
async def expire(ctx: Context, timer: Timer) -> None:
    """Let an unanswered request lapse and tell the requester, gently."""
    request = await ctx.session.get(CoffeeRequest, timer.subject_id)
    if request is None or request.status != CoffeeStatus.PENDING:
        return
    request.status, request.answered_at = CoffeeStatus.EXPIRED, ctx.now()
    ctx.session.add(request)
    requester = await ctx.session.get(Member, request.requester_id)
    recipient = await ctx.session.get(Member, request.recipient_id)
    topic = await ctx.session.get(Topic, request.topic_id)
    if requester is None or recipient is None:
        return
    await ctx.send(
        f"tags:coffee:{request.id}:expired",
        DeliveryKind.DIRECT,
        Reply(
            text=rich(
                "Your coffee request to ", mention(recipient), " lapsed after a week: they "
                "aren't available right now. ", Code(f"/whoknows {topic.slug if topic else ''}"),
                " shows who has time.",
            ),
            visibility=Visibility.DIRECT,
        ),
        recipient_ids=(requester.external_id,),
        member_id=requester.id,
    )  # fmt: skip


async def export_member(ctx: Context, person: Member) -> list[dict[str, Any]]:
    """Return the coffee requests a member sent or received (the other side by name only)."""
    rows = await ctx.session.exec(
        select(CoffeeRequest, Topic.slug)
        .join(Topic, col(Topic.id) == col(CoffeeRequest.topic_id))
        .where(
            or_(
                col(CoffeeRequest.requester_id) == person.id,
                col(CoffeeRequest.recipient_id) == person.id,
            )
        )
        .order_by(col(CoffeeRequest.id))
    )
    out: list[dict[str, Any]] = []
    for request, slug in rows.all():
        sent = request.requester_id == person.id
        other = await ctx.session.get(
            Member, request.recipient_id if sent else request.requester_id
        )
        out.append(
            {
                "direction": "sent" if sent else "received",
                "with": other.display_name if other else None,
                "topic": slug,
                "message": request.message,
                # A requester sees "not available" exactly as they were told, never "not now".
                "status": request.status
                if not sent or request.status != CoffeeStatus.NOT_NOW
                else "not available",
                "at": request.created_at.isoformat(),
                "answered_at": request.answered_at.isoformat() if request.answered_at else None,
            }
        )
    return out


async def forget_member(ctx: Context, person: Member) -> int:
    """Delete every coffee request a member sent or received, with their expiry timers."""
    ids = list(
        (
            await ctx.session.exec(
                select(CoffeeRequest.id).where(
                    or_(
                        col(CoffeeRequest.requester_id) == person.id,
                        col(CoffeeRequest.recipient_id) == person.id,
                    )
                )
            )
        ).all()
    )
    if not ids:
        return 0
    await ctx.session.exec(  # type: ignore[call-overload]
        delete(Timer).where(
            col(Timer.community_id) == ctx.community_id,
            col(Timer.kind) == EXPIRE_TIMER,
            col(Timer.subject_id).in_(ids),
        )
    )
    await ctx.session.exec(delete(CoffeeRequest).where(col(CoffeeRequest.id).in_(ids)))  # type: ignore[call-overload]
    return len(ids)
