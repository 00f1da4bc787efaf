"""`/crowdmentor topics` (the directory) and admins' topic aliases and merges."""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlmodel import col, select

from bot.commands import _tags as tags
from bot.context import Context
from bot.errors import BadArgumentsError, NotFoundError
from bot.registry import Access, Param, ParamKind, command
from bot.replies import Bold, Code, Reply, Section, rich
from bot.store.models import QuestionTopic, Topic
from bot.store.repositories import topic_ids
from bot.store.tag_models import CoffeeRequest, MemberTag, TopicAlias

# The directory lists this many topics; the rest are summed up (a reply must fit one message).
LISTED = 40


@command("crowdmentor", "topics", summary="See every topic people are happy to be asked about")
async def topics(ctx: Context) -> Reply:
    """List the directory: topics with how many people know them."""
    listed = await tags.directory(ctx.session, ctx.community_id)
    if not listed:
        return Reply.say(
            "Nobody has tagged themselves yet. Be the first: ", Code("/askme add python"), "."
        )
    lines = [rich("• ", Bold(f"#{slug}"), f" {n}\n") for slug, n in listed[:LISTED]]
    more = (
        [Section(body=rich(f"…and {len(listed) - LISTED} more topics."))]
        if len(listed) > LISTED
        else []
    )
    aliases = (
        await ctx.session.exec(
            select(TopicAlias.alias, TopicAlias.topic)
            .where(TopicAlias.community_id == ctx.community_id)
            .order_by(col(TopicAlias.alias))
        )
    ).all()
    if aliases:
        more.append(
            Section(
                heading=rich(Bold("Also known as")),
                body=rich(", ".join(f"#{a} → #{t}" for a, t in aliases)),
            )
        )
    return Reply(
        text=rich(Bold("Topics people are happy to be asked about"), " (people per topic)"),
        sections=(
            Section(body=rich(*lines)),
            *more,
            Section(body=rich(Code("/whoknows <topic>"), " shows who has time for one.")),
        ),
    )


async def _save_alias(ctx: Context, alias: str, target: str) -> None:
    found = (
        await ctx.session.exec(
            select(TopicAlias).where(
                TopicAlias.community_id == ctx.community_id, TopicAlias.alias == alias
            )
        )
    ).first()
    if found is None:
        found = TopicAlias(
            community_id=ctx.community_id, alias=alias, topic=target, created_at=ctx.now()
        )
    found.topic = target
    ctx.session.add(found)
    # Aliases pointing at the alias now point at its target (no chains to follow later).
    await ctx.session.exec(  # type: ignore[call-overload]
        update(TopicAlias)
        .where(col(TopicAlias.community_id) == ctx.community_id, col(TopicAlias.topic) == alias)
        .values(topic=target)
    )


async def _merge(ctx: Context, source: str, target: str) -> int:
    """Move tags, question topics and coffee requests from `source` to `target`."""
    ids = await topic_ids(ctx.session, ctx.community, [target], ctx.now())
    into = ids[target]
    old = (
        await ctx.session.exec(
            select(Topic).where(Topic.community_id == ctx.community_id, Topic.slug == source)
        )
    ).first()
    if old is None:
        return 0
    moved = 0
    # A member tagged with both keeps one tag: the target's.
    both = select(MemberTag.member_id).where(MemberTag.topic_id == into)
    await ctx.session.exec(  # type: ignore[call-overload]
        delete(MemberTag).where(
            col(MemberTag.topic_id) == old.id, col(MemberTag.member_id).in_(both)
        )
    )
    result = await ctx.session.exec(  # type: ignore[call-overload]
        update(MemberTag).where(col(MemberTag.topic_id) == old.id).values(topic_id=into)
    )
    moved = result.rowcount
    tagged = select(QuestionTopic.question_id).where(QuestionTopic.topic_id == into)
    await ctx.session.exec(  # type: ignore[call-overload]
        delete(QuestionTopic).where(
            col(QuestionTopic.topic_id) == old.id, col(QuestionTopic.question_id).in_(tagged)
        )
    )
    await ctx.session.exec(  # type: ignore[call-overload]
        update(QuestionTopic).where(col(QuestionTopic.topic_id) == old.id).values(topic_id=into)
    )
    await ctx.session.exec(  # type: ignore[call-overload]
        update(CoffeeRequest).where(col(CoffeeRequest.topic_id) == old.id).values(topic_id=into)
    )
    await ctx.session.delete(old)
    return int(moved)


async def _two_topics(ctx: Context, first: str, second: str) -> tuple[str, str]:
    source = tags.check_topic(first)
    target = await tags.canonical(ctx.session, ctx.community_id, tags.check_topic(second))
    if source == target:
        raise BadArgumentsError("Those are the same topic; nothing to do.")
    return source, target


@command(
    "crowdmentor",
    "settings",
    "topics-alias",
    summary="Make one topic name mean another, e.g. k8s → kubernetes",
    params=(
        Param("alias", ParamKind.WORD, "The other name, like k8s", required=True),
        Param("topic", ParamKind.WORD, "The topic it means, like kubernetes", required=True),
    ),
    access=Access.ADMIN,
    examples=("/crowdmentor settings topics-alias k8s kubernetes",),
)
async def topics_alias(ctx: Context, alias: str, topic: str) -> Reply:
    """Add an alias (and fold anything already filed under it into the topic)."""
    source, target = await _two_topics(ctx, alias, topic)
    moved = await _merge(ctx, source, target)
    await _save_alias(ctx, source, target)
    folded = f" {moved} existing tag{'s' * (moved != 1)} moved over." if moved else ""
    return Reply.say(
        Bold(f"#{source}"), " now means ", Bold(f"#{target}"), " everywhere here.", folded
    )


@command(
    "crowdmentor",
    "settings",
    "topics-merge",
    summary="Merge one topic into another (tags and questions move; the old name stays an alias)",
    params=(
        Param("source", ParamKind.WORD, "The topic to merge away", required=True),
        Param("into", ParamKind.WORD, "The topic to keep", required=True),
    ),
    access=Access.ADMIN,
    examples=("/crowdmentor settings topics-merge golang go",),
)
async def topics_merge(ctx: Context, source: str, into: str) -> Reply:
    """Merge a topic into another and keep the old name as an alias."""
    old, target = await _two_topics(ctx, source, into)
    exists = await tags.existing_topic_ids(ctx.session, ctx.community_id, [old])
    if not exists:
        raise NotFoundError(
            rich(
                "There's no #", old, " here to merge. ",
                Code(f"/crowdmentor settings topics-alias {old} {target}"),
                " makes the name mean #", target, " from now on.",
            )
        )  # fmt: skip
    moved = await _merge(ctx, old, target)
    await _save_alias(ctx, old, target)
    return Reply.say(
        "Merged ", Bold(f"#{old}"), " into ", Bold(f"#{target}"),
        f": {moved} tag{'s' * (moved != 1)} moved, and #{old} now means #{target}.",
    )  # fmt: skip
