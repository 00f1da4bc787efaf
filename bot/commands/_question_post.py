"""How a question looks in its channel, and keeping that post up to date."""

from __future__ import annotations

import dataclasses

from sqlmodel import col, select

from bot import outbox
from bot.adapters.base import DeliveryKind
from bot.commands._people import mention
from bot.context import Context
from bot.replies import (
    Bold,
    Button,
    ButtonStyle,
    Quote,
    Reply,
    Rich,
    Section,
    Visibility,
    reply_to_json,
    rich,
)
from bot.store.models import (
    Member,
    OutboxStatus,
    Question,
    QuestionStatus,
    QuestionTopic,
    Topic,
)

RESOLVE_ACTION = "question.resolve"
HELPED_ACTION = "question.helped"


def post_key(question: Question) -> str:
    """Return the outbox key of a question's post."""
    return f"question:{question.id}:post"


def handle(question: Question) -> str:
    """Return the short name text adapters use for a question's thread."""
    return f"q{question.number}"


async def topics_of(ctx: Context, question: Question) -> list[str]:
    """Return a question's topic slugs."""
    rows = await ctx.session.exec(
        select(Topic.slug)
        .join(QuestionTopic, col(QuestionTopic.topic_id) == col(Topic.id))
        .where(QuestionTopic.question_id == question.id)
        .order_by(col(Topic.slug))
    )
    return list(rows.all())


async def member(ctx: Context, member_id: int | None) -> Member | None:
    """Load a member row by id."""
    return await ctx.session.get(Member, member_id) if member_id else None


def state_line(question: Question, helper: Member | None) -> Rich:
    """Describe where the question stands, for the post and for lists."""
    replies = f"{question.reply_count} repl{'y' if question.reply_count == 1 else 'ies'}"
    match question.status:
        case QuestionStatus.RESOLVED:
            helped = rich(" · ", mention(helper), "'s answer helped") if helper else None
            return rich("✅ ", Bold("Resolved"), f" · {replies}", helped)
        case QuestionStatus.CLOSED:
            return rich("💤 ", Bold("Closed"), f" after a quiet spell · {replies}")
        case _:
            return rich("🟢 ", Bold("Open"), f" · {replies} · answer in the thread")


async def render_post(ctx: Context, question: Question) -> Reply:
    """Build the channel post for a question in its current state."""
    asker = None if question.anonymous else await member(ctx, question.asker_id)
    helper = await member(ctx, question.helped_by_id)
    who = rich("asked anonymously") if question.anonymous else rich("from ", mention(asker))
    topics = await topics_of(ctx, question)
    sections = [Section(body=rich(Quote(question.text)))]
    if question.context:
        sections.append(Section(heading=rich(Bold("Context")), body=rich(Quote(question.context))))
    if topics:
        sections.append(Section(body=rich("Topics: ", " ".join(f"#{t}" for t in topics))))
    sections.append(Section(body=state_line(question, helper)))
    buttons: tuple[Button, ...] = ()
    if question.status == QuestionStatus.OPEN:
        buttons = (Button(RESOLVE_ACTION, "Mark resolved", str(question.id), ButtonStyle.PRIMARY),)
    return Reply(
        text=rich("❓ ", Bold(f"Question #{question.number}"), " ", who),
        sections=tuple(sections),
        buttons=buttons,
        visibility=Visibility.CHANNEL,
    )


async def refresh_post(ctx: Context, question: Question) -> None:
    """Queue an edit of the question's post to show its new state."""
    version = f"{question.status}:{question.helped_by_id or 0}:{question.reply_count}"
    await ctx.send(
        f"question:{question.id}:update:{version}",
        DeliveryKind.UPDATE,
        await render_post(ctx, question),
        channel_id=question.channel_id,
        update_ref=question.post_ref,
        parent_key=None if question.post_ref else post_key(question),
        handle=handle(question),
    )


async def show_asker_forgotten(ctx: Context, question: Question) -> None:
    """Re-render a question's post without its (forgotten) asker, sent yet or not."""
    post = await outbox.find(ctx.session, ctx.community_id, post_key(question))
    reply = await render_post(ctx, question)
    if post is not None and post.status != OutboxStatus.SENT:
        post.payload = reply_to_json(reply)
        post.member_id = None
        ctx.session.add(post)
        return
    await ctx.send(
        f"question:{question.id}:update:asker-forgotten",
        DeliveryKind.UPDATE,
        reply,
        channel_id=question.channel_id,
        update_ref=question.post_ref,
        parent_key=None if question.post_ref else post_key(question),
        handle=handle(question),
    )


async def say_in_thread(ctx: Context, question: Question, name: str, reply: Reply) -> None:
    """Queue a message in the question's thread (once per `name`)."""
    await ctx.send(
        f"question:{question.id}:thread:{name}",
        DeliveryKind.THREAD,
        dataclasses.replace(reply, visibility=Visibility.THREAD),
        channel_id=question.channel_id,
        thread_ref=question.thread_ref,
        parent_key=None if question.thread_ref else post_key(question),
        handle=handle(question),
    )
