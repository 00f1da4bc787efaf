"""Crowdsourced advice threads: `/ask`, its form, and everything that happens to a question."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, func, select

from bot.adapters.base import Delivered, DeliveryKind
from bot.commands._buttons import button_id, community_row
from bot.commands._people import mention
from bot.commands._question_post import (
    HELPED_ACTION,
    RESOLVE_ACTION,
    handle,
    member,
    post_key,
    refresh_post,
    render_post,
    say_in_thread,
    show_asker_forgotten,
    topics_of,
)
from bot.context import Context
from bot.errors import NotFoundError, PermissionDeniedError, UserError
from bot.events import ThreadMessage
from bot.limits import DISCORD_THREAD_NAME_MAX_CHARS, QUESTION_MAX_CHARS, TOPICS_PER_QUESTION
from bot.registry import (
    Param,
    ParamKind,
    action,
    command,
    on_delivered,
    on_export,
    on_forget,
    on_form,
    on_thread_message,
)
from bot.registry import on_timer as timer_hook
from bot.replies import (
    Bold,
    Button,
    ButtonStyle,
    ChannelLink,
    Code,
    FieldKind,
    Form,
    FormField,
    Quote,
    Reply,
    Section,
    rich,
)
from bot.search import similar_questions
from bot.store.models import (
    Member,
    OutboxMessage,
    Question,
    QuestionReply,
    QuestionStatus,
    QuestionTopic,
    Timer,
)
from bot.store.repositories import next_question_number, settings_for, topic_ids
from bot.text import defuse_mass_mentions, extract_topics, split_topic_list, vagueness_hint

FORM_ID = "ask"
POST_ACTION = "question.post"
DISCARD_ACTION = "question.discard"
HELPERS_OFFERED = 5

ASK_FORM = Form(
    form_id=FORM_ID,
    title="Ask the community",
    submit_label="Ask",
    fields=(
        FormField(
            "question",
            "Your question",
            FieldKind.LONG_TEXT,
            required=True,
            max_length=QUESTION_MAX_CHARS,
            placeholder="How did you prepare for your first senior interview?",
        ),
        FormField(
            "context",
            "What you tried / where you are",
            FieldKind.LONG_TEXT,
            max_length=QUESTION_MAX_CHARS,
            placeholder="I have two weeks and I'm rusty on system design.",
        ),
        FormField("topics", "Topics (comma separated)", placeholder="interviews, career"),
        FormField("anonymous", "Ask anonymously", FieldKind.YES_NO),
    ),
)

GUIDANCE = rich(
    "Ask the whole community; answers come in the question's thread. Type your question after ",
    Code("/ask"),
    ", for example:\n",
    Code("/ask How did you prepare for senior interviews? #interviews"),
    "\nAdd ",
    Code("--anonymous"),
    " at the front to hide your name, and ",
    Code("#topic"),
    " words to tag it.",
)


@command(
    "ask",
    summary="Ask the community a question; answers come in its thread",
    params=(
        Param("anonymous", ParamKind.FLAG, "Hide your name on the post (moderators still see it)"),
        Param("question", ParamKind.TEXT, "Your question; #topic words add topics"),
    ),
    examples=(
        "/ask How did you prepare for senior interviews? #interviews",
        "/ask --anonymous How do I ask my manager for a raise? #career",
    ),
    slow=True,
    form=ASK_FORM,
)
async def ask(ctx: Context, question: str | None = None, anonymous: bool = False) -> Reply:
    """Ask a question, or open the ask form when there is no text."""
    if not question:
        return Reply(text=GUIDANCE, form=ASK_FORM)
    return await _ask(ctx, question, context="", topics=[], anonymous=anonymous)


@on_form(FORM_ID)
async def ask_form(ctx: Context, values: dict[str, Any]) -> Reply:
    """Ask a question submitted through the form."""
    question = str(values.get("question") or "").strip()
    if not question:
        return Reply(text=rich("Your question was empty, so nothing was posted. ", GUIDANCE))
    return await _ask(
        ctx,
        question,
        context=str(values.get("context") or "").strip(),
        topics=split_topic_list(str(values.get("topics") or "")),
        anonymous=bool(values.get("anonymous")),
    )


def _too_long(question: str, context: str) -> UserError:
    typed = question + (f"\n\n{context}" if context else "")
    return UserError(
        rich(
            f"Your question is {len(typed):,} characters; questions can be at most "
            f"{QUESTION_MAX_CHARS:,} so that every platform shows them whole (Discord shows "
            "2,000 per message). Nothing was posted. Could you shorten it? Here is your text:\n",
            Quote(typed),
        )
    )


async def _ask(
    ctx: Context, raw: str, *, context: str, topics: list[str], anonymous: bool
) -> Reply:
    if len(raw) + len(context) > QUESTION_MAX_CHARS:
        raise _too_long(raw, context)
    text, tagged = extract_topics(defuse_mass_mentions(raw.strip()))
    context = defuse_mass_mentions(context)
    all_topics = list(dict.fromkeys(tagged + topics))
    kept, dropped = all_topics[:TOPICS_PER_QUESTION], all_topics[TOPICS_PER_QUESTION:]
    community_settings = await settings_for(ctx.session, ctx.community)
    allow_anonymous = community_settings.allow_anonymous
    if allow_anonymous is None:
        allow_anonymous = ctx.settings.ask.allow_anonymous
    if anonymous and not allow_anonymous:
        raise UserError(
            rich(
                "This community doesn't allow anonymous questions, so nothing was posted. "
                "Your question, to ask with your name or keep:\n",
                Quote(raw),
            )
        )
    assert ctx.place is not None
    now = ctx.now()
    question = Question(
        community_id=ctx.community_id,
        asker_id=ctx.member.id if ctx.member else None,
        anonymous=anonymous,
        text=text,
        context=context,
        status=QuestionStatus.DRAFT,
        channel_id=community_settings.ask_channel_id or ctx.place.channel_id,
        created_at=now,
        last_activity_at=now,
    )
    ctx.session.add(question)
    await ctx.session.flush()
    assert question.id is not None
    for topic_id in (await topic_ids(ctx.session, ctx.community, kept, now)).values():
        ctx.session.add(QuestionTopic(question_id=question.id, topic_id=topic_id))

    notes = []
    if dropped:
        notes.append(
            Section(
                body=rich(
                    f"A question takes at most {TOPICS_PER_QUESTION} topics; I left out ",
                    ", ".join(f"#{t}" for t in dropped),
                    ".",
                )
            )
        )
    if hint := vagueness_hint(text):
        notes.append(Section(heading=rich(Bold("A tip")), body=rich(hint)))

    similar = await similar_questions(
        ctx.session,
        ctx.community_id,
        f"{text} {context}",
        limit=ctx.settings.ask.similar_shown,
        exclude_id=question.id,
    )
    if similar:
        expiry = now + timedelta(hours=ctx.settings.ask.draft_expiry_hours)
        await ctx.set_timer(f"question:{question.id}:draft", "question.draft", question.id, expiry)
        listed = [
            rich("• ", Bold(f"#{s.number}"), f" ({s.status}, {s.reply_count} replies) ", s.text)
            for s in similar
        ]
        return Reply(
            text=rich(
                "Before I post it: these earlier questions look close to yours. Their threads may "
                "already have your answer."
            ),
            sections=(
                Section(body=rich(*[rich(line, "\n") for line in listed])),
                *notes,
            ),
            buttons=(
                Button(POST_ACTION, "Post my question", str(question.id), ButtonStyle.PRIMARY),
                Button(DISCARD_ACTION, "Never mind, I found it", str(question.id)),
            ),
        )
    routed = await _publish(ctx, question)
    return Reply(text=await _posted_text(ctx, question), sections=(*routed, *notes))


async def _posted_text(ctx: Context, question: Question) -> Any:
    community_settings = await settings_for(ctx.session, ctx.community)
    where = ChannelLink(question.channel_id, community_settings.ask_channel_name or "")
    anonymously = " anonymously" if question.anonymous else ""
    return rich(
        f"Posted{anonymously} as ",
        Bold(f"question #{question.number}"),
        " in ",
        where,
        ". Answers will come in its thread; press “Mark resolved” on it once you have yours.",
    )


async def _publish(ctx: Context, question: Question) -> tuple[Section, ...]:
    """Post a question: number it, queue its post, arm its timers, let listeners route it.

    Returns what the listeners have to tell the asker (for instance who was asked to help).
    """
    assert question.id is not None
    now = ctx.now()
    question.number = await next_question_number(ctx.session, ctx.community)
    question.status = QuestionStatus.OPEN
    question.posted_at = now
    question.last_activity_at = now
    ctx.session.add(question)
    await ctx.cancel_timer(f"question:{question.id}:draft")
    title = f"#{question.number} {question.text.splitlines()[0]}"
    await ctx.send(
        post_key(question),
        DeliveryKind.POST,
        await render_post(ctx, question),
        channel_id=question.channel_id,
        thread_title=title[:DISCORD_THREAD_NAME_MAX_CHARS],
        topics=tuple(await topics_of(ctx, question)),
        handle=handle(question),
        member_id=question.asker_id,
        on_delivered="question.posted",
        subject_id=question.id,
    )
    timings = await _timings(ctx)
    await ctx.set_timer(
        f"question:{question.id}:nudge", "question.nudge", question.id, now + timings[0]
    )
    await ctx.set_timer(
        f"question:{question.id}:close", "question.close", question.id, now + timings[1]
    )
    # Capabilities that care about new questions (routing to people tagged with the topics)
    # declare `@hook("question_posted", name)`: (ctx, question, topics) -> Section | None.
    said: list[Section] = []
    topics = await topics_of(ctx, question)
    for listener in ctx.registry.hooks_of("question_posted"):
        if (section := await listener.handler(ctx, question, topics)) is not None:
            said.append(section)
    return tuple(said)


async def _timings(ctx: Context) -> tuple[timedelta, timedelta]:
    community_settings = await settings_for(ctx.session, ctx.community)
    hours = community_settings.nudge_after_hours or ctx.settings.ask.nudge_after_hours
    days = community_settings.close_after_days or ctx.settings.ask.close_after_days
    return timedelta(hours=hours), timedelta(days=days)


async def _own_question(ctx: Context, value: str) -> Question:
    """Load the question a button refers to, checking it belongs to this community."""
    gone = "I can't find that question any more. Nothing was changed."
    return await community_row(ctx, Question, value.split(":")[0], gone=gone)


def _require_asker_or_moderator(ctx: Context, question: Question, doing: str) -> None:
    is_asker = ctx.member is not None and question.asker_id == ctx.member.id
    if not (is_asker or ctx.is_moderator()):
        raise PermissionDeniedError(f"Only the person who asked, or a moderator, can {doing}.")


@action(POST_ACTION)
async def post_draft(ctx: Context, value: str) -> Reply:
    """Post a question that was held to show similar ones."""
    question = await _own_question(ctx, value)
    _require_asker_or_moderator(ctx, question, "post this question")
    if question.status != QuestionStatus.DRAFT:
        return Reply.say("That question is already posted as ", Bold(f"#{question.number}"), ".")
    routed = await _publish(ctx, question)
    return Reply(text=await _posted_text(ctx, question), sections=routed)


@action(DISCARD_ACTION)
async def discard_draft(ctx: Context, value: str) -> Reply:
    """Drop a held question because an earlier thread answered it."""
    question = await _own_question(ctx, value)
    _require_asker_or_moderator(ctx, question, "discard this question")
    if question.status != QuestionStatus.DRAFT:
        return Reply.say("That question is already posted as ", Bold(f"#{question.number}"), ".")
    await ctx.cancel_timer(f"question:{question.id}:draft")
    await ctx.session.delete(question)
    return Reply.say("Glad an earlier thread had it. Nothing was posted.")


@action(RESOLVE_ACTION)
async def resolve(ctx: Context, value: str) -> Reply:
    """Mark a question resolved and offer to credit the reply that helped."""
    question = await _own_question(ctx, value)
    _require_asker_or_moderator(ctx, question, "mark it resolved")
    if question.status == QuestionStatus.RESOLVED:
        return Reply.say("Question ", Bold(f"#{question.number}"), " is already resolved.")
    if question.status not in (QuestionStatus.OPEN, QuestionStatus.CLOSED):
        raise UserError("That question isn't posted yet.")
    question.status = QuestionStatus.RESOLVED
    question.resolved_at = ctx.now()
    question.resolved_by_id = ctx.member.id if ctx.member else None
    ctx.session.add(question)
    await ctx.cancel_timer(f"question:{question.id}:nudge")
    await ctx.cancel_timer(f"question:{question.id}:close")
    await refresh_post(ctx, question)
    helpers = await _repliers(ctx, question)
    if not helpers:
        return Reply.say("Marked question ", Bold(f"#{question.number}"), " resolved. Thank you!")
    buttons = tuple(
        Button(HELPED_ACTION, person.display_name[:70], f"{question.id}:{person.id}")
        for person in helpers
    )
    return Reply(
        text=rich(
            "Marked question ",
            Bold(f"#{question.number}"),
            " resolved. Whose reply helped most? They'll be thanked in the thread.",
        ),
        buttons=(*buttons, Button(HELPED_ACTION, "Skip", f"{question.id}:0")),
    )


async def _repliers(ctx: Context, question: Question) -> list[Member]:
    """Return the people who replied (not the asker), most replies first."""
    query = (
        select(Member)
        .join(QuestionReply, col(QuestionReply.author_id) == col(Member.id))
        .where(QuestionReply.question_id == question.id)
        .group_by(col(Member.id))
        .order_by(func.count().desc(), col(Member.id))
        .limit(HELPERS_OFFERED)
    )
    if question.asker_id is not None:
        query = query.where(col(Member.id) != question.asker_id)
    return list((await ctx.session.exec(query)).all())


@action(HELPED_ACTION)
async def helped(ctx: Context, value: str) -> Reply:
    """Credit the reply that helped most (or skip), and thank its author in the thread."""
    question = await _own_question(ctx, value)
    _require_asker_or_moderator(ctx, question, "credit a reply")
    helper_id = button_id(value.partition(":")[2])
    if helper_id == 0:
        return Reply.say("Okay. Thanks for closing the loop!")
    helper = await member(ctx, helper_id)
    replied = await ctx.session.exec(
        select(QuestionReply.id).where(
            QuestionReply.question_id == question.id, QuestionReply.author_id == helper_id
        )
    )
    if helper is None or helper.community_id != ctx.community_id or replied.first() is None:
        raise NotFoundError("That person didn't reply to this question. Nothing was changed.")
    question.helped_by_id = helper_id
    ctx.session.add(question)
    await refresh_post(ctx, question)
    await say_in_thread(
        ctx,
        question,
        f"helped:{helper_id}",
        Reply.say(
            "✅ This question is resolved: ", mention(helper), "'s answer helped most. Thank you!"
        ),
    )
    return Reply.say("Thanked ", mention(helper), " in the thread.")


@on_thread_message("question.replies")
async def count_reply(ctx: Context, message: ThreadMessage) -> None:
    """Count a reply in a question's thread and credit its author (retries count once)."""
    # Replies arriving together (on one instance or several) each add one to the count: the
    # row lock makes the next wait for this one instead of overwriting it with a stale count.
    query = (
        select(Question)
        .where(
            Question.community_id == ctx.community_id,
            Question.thread_ref == message.place.thread_id,
        )
        .with_for_update()
    )
    question = (await ctx.session.exec(query)).first()
    if question is None or ctx.member is None:
        return
    seen = await ctx.session.exec(
        select(QuestionReply.id).where(
            QuestionReply.question_id == question.id,
            QuestionReply.message_ref == message.message_id,
        )
    )
    if seen.first() is not None:
        return
    ctx.session.add(
        QuestionReply(
            question_id=question.id,
            author_id=ctx.member.id,
            message_ref=message.message_id[:128],
            created_at=ctx.now(),
        )
    )
    question.last_activity_at = ctx.now()
    if ctx.member.id != question.asker_id:
        question.reply_count += 1
    ctx.session.add(question)


@on_delivered("question.posted")
async def remember_post(ctx: Context, row: OutboxMessage, delivered: Delivered) -> None:
    """Store where the platform put a question, so thread replies find it."""
    question = await ctx.session.get(Question, row.subject_id)
    if question is None:
        return
    question.post_ref = delivered.message_ref
    question.thread_ref = delivered.thread_ref or delivered.message_ref
    if delivered.channel_id:
        question.channel_id = delivered.channel_id
    ctx.session.add(question)


@timer_hook("question.draft")
async def expire_draft(ctx: Context, timer: Timer) -> None:
    """Drop a held question nobody posted: its text is not ours to keep."""
    question = await ctx.session.get(Question, timer.subject_id)
    if question is not None and question.status == QuestionStatus.DRAFT:
        await ctx.session.delete(question)


@timer_hook("question.nudge")
async def nudge(ctx: Context, timer: Timer) -> None:
    """Nudge an unanswered question's thread, kindly."""
    # Locked like a reply, so a reply arriving now (on any instance) is seen, not nudged over.
    question = await ctx.session.get(Question, timer.subject_id, with_for_update=True)
    if question is None or question.status != QuestionStatus.OPEN or question.reply_count:
        return
    question.nudged_at = ctx.now()
    ctx.session.add(question)
    topics = await topics_of(ctx, question)
    about = " ".join(f"#{t}" for t in topics) if topics else "this"
    asker = None if question.anonymous else await member(ctx, question.asker_id)
    tip = (
        rich(" ", mention(asker), ": adding what you've tried, or where you're stuck, "
             "usually brings replies.")
        if asker
        else None
    )  # fmt: skip
    # Listeners (`@hook("question_unanswered", name)`: (ctx, question, topics) -> Rich | None)
    # may widen the circle, e.g. ask the next people tagged with the topics.
    extra = [
        said
        for listener in ctx.registry.hooks_of("question_unanswered")
        if (said := await listener.handler(ctx, question, topics)) is not None
    ]
    await say_in_thread(
        ctx,
        question,
        "nudge",
        Reply.say(
            "👋 Still looking for an answer. Has anyone here dealt with ",
            about,
            "? A partial answer or a pointer helps too.",
            tip,
            *extra,
        ),
    )


@timer_hook("question.close")
async def close_if_quiet(ctx: Context, timer: Timer) -> None:
    """Close a question politely once its thread has been quiet long enough."""
    # Locked, so a reply or a resolve arriving on another instance keeps it open instead.
    question = await ctx.session.get(Question, timer.subject_id, with_for_update=True)
    if question is None or question.status != QuestionStatus.OPEN:
        return
    quiet_for = (await _timings(ctx))[1]
    quiet_until = question.last_activity_at + quiet_for
    if quiet_until > ctx.now():
        # Replies kept it alive: look again once it has been quiet for the full spell.
        await ctx.set_timer(timer.key, timer.kind, timer.subject_id, quiet_until)
        return
    question.status = QuestionStatus.CLOSED
    question.closed_at = ctx.now()
    ctx.session.add(question)
    await refresh_post(ctx, question)
    thanks = (
        "Thank you to everyone who replied! "
        if question.reply_count
        else "Nobody had an answer this time, which happens. "
    )
    await say_in_thread(
        ctx,
        question,
        "close",
        Reply.say(
            f"💤 Closing this after {quiet_for.days} quiet days. ",
            thanks,
            "It can still be marked resolved, and asking again with more detail is always welcome.",
        ),
    )


@on_export("questions")
async def export_questions(ctx: Context, person: Member) -> dict[str, Any]:
    """Return the questions a member asked, the replies they wrote and the credit they got."""
    asked = (
        await ctx.session.exec(
            select(Question).where(Question.asker_id == person.id).order_by(col(Question.id))
        )
    ).all()
    replied = (
        await ctx.session.exec(
            select(QuestionReply, Question.number)
            .join(Question, col(Question.id) == col(QuestionReply.question_id))
            .where(QuestionReply.author_id == person.id)
            .order_by(col(QuestionReply.id))
        )
    ).all()
    helped = (
        await ctx.session.exec(select(Question.number).where(Question.helped_by_id == person.id))
    ).all()
    resolved = (
        await ctx.session.exec(
            select(Question.number, Question.resolved_at).where(
                Question.resolved_by_id == person.id
            )
        )
    ).all()
    return {
        "questions_asked": [
            {
                "number": q.number,
                "status": q.status,
                "anonymous": q.anonymous,
                "text": q.text,
                "context": q.context,
                "topics": await topics_of(ctx, q),
                "asked_at": q.created_at.isoformat(),
                "channel": q.channel_id,
                "posted_at": _iso(q.posted_at),
                "nudged_at": _iso(q.nudged_at),
                "resolved_at": _iso(q.resolved_at),
                "closed_at": _iso(q.closed_at),
                "last_activity_at": q.last_activity_at.isoformat(),
                "replies": q.reply_count,
            }
            for q in asked
        ],
        "replies_written": [
            {"question": number, "message": reply.message_ref, "at": reply.created_at.isoformat()}
            for reply, number in replied
        ],
        "credited_as_helpful_on": list(helped),
        "marked_resolved": [{"question": number, "at": _iso(at)} for number, at in resolved],
    }


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


@on_forget("questions")
async def forget_questions(ctx: Context, person: Member) -> dict[str, int]:
    """Delete a member's drafts, and take their name off posted questions, replies and credits.

    A posted question is public in its channel and others' answers, credits and pings hang
    from it, so it stays, from "a former member"; a draft was never seen by anyone and goes.
    """
    asked = (await ctx.session.exec(select(Question).where(Question.asker_id == person.id))).all()
    drafts = [q.id for q in asked if q.number is None]
    if drafts:
        await ctx.session.exec(  # type: ignore[call-overload]
            delete(Timer).where(
                col(Timer.community_id) == ctx.community_id,
                col(Timer.kind).startswith("question."),
                col(Timer.subject_id).in_(drafts),
            )
        )
        await ctx.session.exec(delete(Question).where(col(Question.id).in_(drafts)))  # type: ignore[call-overload]
    posted = [q for q in asked if q.number is not None]
    for question in posted:
        question.asker_id = None
        ctx.session.add(question)
        await show_asker_forgotten(ctx, question)
    replies = await ctx.session.exec(  # type: ignore[call-overload]
        update(QuestionReply)
        .where(col(QuestionReply.author_id) == person.id)
        .values(author_id=None)
    )
    for column in (Question.helped_by_id, Question.resolved_by_id):
        await ctx.session.exec(  # type: ignore[call-overload]
            update(Question).where(col(column) == person.id).values({column: None})
        )
    return {
        "drafts deleted": len(drafts),
        "questions made anonymous": len(posted),
        "replies unlinked": replies.rowcount,
    }
