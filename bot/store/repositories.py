"""Queries shared by commands: communities, members, roles, settings, topics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.events import Actor
from bot.events import Community as CommunityRef
from bot.limits import COMMUNITY_NAME_MAX_CHARS
from bot.store.models import (
    Community,
    CommunityRole,
    CommunitySettings,
    Member,
    Role,
    Topic,
)


def insert_ignoring_conflicts(session: AsyncSession, model: Any, **values: Any) -> Any:
    """Build `INSERT … ON CONFLICT DO NOTHING` for the session's dialect."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).values(**values).on_conflict_do_nothing()


async def community_for(session: AsyncSession, ref: CommunityRef, now: datetime) -> Community:
    """Return the community row for a platform community, creating it on first sight."""
    query = select(Community).where(
        Community.platform == ref.platform, Community.external_id == ref.external_id
    )
    found = (await session.exec(query)).first()
    if found is None:
        await session.exec(  # type: ignore[call-overload]
            insert_ignoring_conflicts(
                session,
                Community,
                platform=ref.platform,
                external_id=ref.external_id,
                name=ref.name[:COMMUNITY_NAME_MAX_CHARS],
                question_seq=0,
                created_at=now,
            )
        )
        found = (await session.exec(query)).one()
    elif found.removed_at is not None:
        # Reinstalled within the grace period: nothing is deleted after all.
        found.removed_at = None
        session.add(found)
    return found


async def member_for(
    session: AsyncSession, community: Community, actor: Actor, now: datetime
) -> Member:
    """Return the member row for an actor, creating it and refreshing their name."""
    query = select(Member).where(
        Member.community_id == community.id, Member.external_id == actor.user_id
    )
    found = (await session.exec(query)).first()
    if found is None:
        await session.exec(  # type: ignore[call-overload]
            insert_ignoring_conflicts(
                session,
                Member,
                community_id=community.id,
                external_id=actor.user_id,
                display_name=actor.display_name[:100],
                created_at=now,
                last_seen_at=now,
            )
        )
        return (await session.exec(query)).one()
    if found.display_name != actor.display_name[:100] and actor.display_name:
        found.display_name = actor.display_name[:100]
    found.last_seen_at = now
    session.add(found)
    return found


async def find_member(
    session: AsyncSession, community: Community, *, external_id: str | None, name: str | None
) -> Member | None:
    """Find a member by platform id, or by display name (case-insensitive) when no id."""
    query = select(Member).where(Member.community_id == community.id)
    if external_id:
        query = query.where(Member.external_id == external_id)
    elif name:
        query = query.where(func.lower(Member.display_name) == name.lower())
    else:
        return None
    return (await session.exec(query)).first()


async def roles_of(session: AsyncSession, member: Member) -> set[str]:
    """Return the roles granted to a member in settings."""
    rows = await session.exec(
        select(CommunityRole.role).where(CommunityRole.member_id == member.id)
    )
    return set(rows.all())


async def members_with_role(
    session: AsyncSession, community: Community, role: Role
) -> list[Member]:
    """Return the members granted a role, by name."""
    query = (
        select(Member)
        .join(CommunityRole, col(CommunityRole.member_id) == col(Member.id))
        .where(CommunityRole.community_id == community.id, CommunityRole.role == role.value)
        .order_by(func.lower(Member.display_name))
    )
    return list((await session.exec(query)).all())


async def settings_for(session: AsyncSession, community: Community) -> CommunitySettings:
    """Return the community's settings row (unsaved defaults when there is none yet).

    The answer is remembered for the rest of the transaction: `session.get` remembers rows that
    exist but not that one is missing, and most communities never change a setting, so without
    this one `/ask` asked three times. Callers that change settings change this same object.
    """
    key = ("community_settings", community.id)
    if key not in session.info:
        found = await session.get(CommunitySettings, community.id)
        session.info[key] = found or CommunitySettings(community_id=community.id or 0)
    settings: CommunitySettings = session.info[key]
    return settings


async def next_question_number(session: AsyncSession, community: Community) -> int:
    """Take the community's next question number atomically (safe across instances)."""
    result = await session.exec(  # type: ignore[call-overload]
        update(Community)
        .where(col(Community.id) == community.id)
        .values(question_seq=Community.question_seq + 1)
        .returning(Community.question_seq)
    )
    return int(result.scalar_one())


async def topic_ids(
    session: AsyncSession, community: Community, slugs: list[str], now: datetime
) -> dict[str, int]:
    """Return ids for topic slugs, creating the ones the community has not seen yet."""
    if not slugs:
        return {}
    for slug in slugs:
        await session.exec(  # type: ignore[call-overload]
            insert_ignoring_conflicts(
                session, Topic, community_id=community.id, slug=slug, created_at=now
            )
        )
    rows = await session.exec(
        select(Topic).where(Topic.community_id == community.id, col(Topic.slug).in_(slugs))
    )
    return {topic.slug: topic.id for topic in rows.all() if topic.id is not None}
