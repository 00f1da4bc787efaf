"""`/whoknows <topic>`, and routing new questions to people tagged with their topics."""

from __future__ import annotations

from bot.commands import _tags as tags
from bot.context import Context
from bot.registry import Param, ParamKind, command, hook
from bot.replies import Bold, Code, Mention, Reply, Rich, Section, rich
from bot.store.models import Question

# How many people /whoknows lists: a few to choose from, not a roster to cold-message.
SHOWN = 5


@command(
    "whoknows",
    summary="Find people with time for a topic, best first",
    params=(
        Param("topic", ParamKind.TEXT, "A topic, like python or career-change", required=True),
    ),
    examples=("/whoknows kubernetes",),
)
async def whoknows(ctx: Context, topic: str) -> Reply:
    """List people available for a topic now, least recently asked first, with their notes."""
    [(slug, topic_id)] = (
        await tags.resolve_topics(ctx.session, ctx.community_id, [tags.check_topic(topic)])
    ).items()
    me = {ctx.member.id} if ctx.member and ctx.member.id else set()
    found = await tags.available(
        ctx.session,
        ctx.community_id,
        [slug],
        ctx.now(),
        limit=SHOWN,
        exclude=me,
        ids={slug: topic_id} if topic_id is not None else {},
    )
    if not found.people:
        body = tags.busy_line([slug], found.tagged)
        if not found.tagged and (
            close := await tags.suggestions(ctx.session, ctx.community_id, slug)
        ):
            body += rich(" Did you mean ", Bold(tags.hashtags(close)), "?")
        return Reply.say(
            body,
            " You can still ",
            Code(f"/ask … #{slug}"),
            ": the whole community sees it.",
        )
    lines: list[Rich] = []
    for person in found.people:
        line = rich("• ", Mention(person.member.external_id, person.member.display_name))
        if person.note:
            line += rich(": ", person.note)
        if person.helped:
            line += rich(f" (helped on {person.helped} question{'s' * (person.helped != 1)})")
        lines.append(line + rich("\n"))
    first = found.people[0].member.display_name
    return Reply(
        text=rich("People with time for ", Bold(f"#{slug}"), " this week:"),
        sections=(
            Section(body=rich(*lines)),
            Section(
                body=rich(
                    "Ask one of them for a short chat: ",
                    Code(f"/coffee @{first} {slug} what you'd like to talk about"),
                    ", or ",
                    Code(f"/ask … #{slug}"),
                    " and I'll point a few people to it.",
                )
            ),
        ),
    )


@hook("question_posted", "tags.route")
async def route(ctx: Context, question: Question, topics: list[str]) -> Section | None:
    """Ask a few people tagged with a new question's topics; tell the asker who."""
    if not topics:
        return None
    asked, found, _ = await tags.route_question(ctx, question, topics, widen=False)
    if asked:
        return Section(
            body=rich(
                "I asked ", tags.people(asked), f", who {tags.knows(asked)} ",
                Bold(tags.hashtags(topics)), ", to take a look.",
            )
        )  # fmt: skip
    if found.tagged:
        return Section(
            body=rich(
                tags.busy_line(topics, found.tagged),
                " So I didn't ping anyone; your question is up for the whole community, and "
                "I'll ask again if it stays unanswered.",
            )
        )
    return None


@hook("question_unanswered", "tags.widen")
async def widen(ctx: Context, question: Question, topics: list[str]) -> Rich | None:
    """Ask the next people for a still-unanswered question, then people on related topics."""
    if not topics:
        return None
    asked, _, related = await tags.route_question(ctx, question, topics, widen=True)
    if not asked:
        return None
    if related:
        return rich(
            " I've also asked ",
            tags.people(asked),
            f", who {tags.knows(asked)} ",
            tags.hashtags(related),
            ".",
        )
    return rich(" I've also asked ", tags.people(asked), ".")
