"""Tables for "ask me about X": topic tags, availability, asks, coffee requests, aliases."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models import _owner, _when


def _ref(table: str) -> int:
    """Return a cascading foreign key with no index of its own (a composite index leads with it)."""
    return Field(  # type: ignore[no-any-return]
        sa_column=Column(Integer, ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=False)
    )


# "Never asked" sorts first; a real value (not NULL) keeps ascending order the same on SQLite
# (NULLs first) and PostgreSQL (NULLs last), and lets one index serve the ranking.
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


class MemberTag(SQLModel, table=True):
    """A member's "ask me about <topic>", with a short note.

    `paused_until` and `last_asked_at` copy the owner's `TagProfile` onto each tag (a member has
    at most a few dozen), so "who is free for topic X, least recently asked first" is one ordered
    index range scan even when a topic has tens of thousands of people.
    """

    __tablename__ = "member_tags"
    __table_args__ = (
        UniqueConstraint("member_id", "topic_id"),
        Index("ix_member_tags_rank", "topic_id", "dormant", "last_asked_at", "member_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = _owner("communities")
    member_id: int = _owner("members")
    topic_id: int = _ref("topics")
    note: str = Field(default="", max_length=200)
    created_at: datetime = _when()
    # When the owner last said "keep" (or added it); re-confirmation counts from here.
    confirmed_at: datetime = _when()
    # When "still happy to be asked about X?" went out and is waiting for an answer.
    confirm_asked_at: datetime | None = _when(nullable=True)
    # Unanswered re-confirmation: not shown, not pinged, until kept.
    dormant: bool = False
    paused_until: datetime | None = _when(nullable=True)
    last_asked_at: datetime = _when()


class TagProfile(SQLModel, table=True):
    """A member's availability for asks: pause, weekly cap, when they were last asked."""

    __tablename__ = "tag_profiles"

    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    )
    community_id: int = _owner("communities")
    paused_until: datetime | None = _when(nullable=True)
    # Asks per rolling week (question pings and coffee requests together); None = the default.
    weekly_cap: int | None = None
    last_asked_at: datetime = _when()


class AskKind(StrEnum):
    """Why someone was asked."""

    QUESTION = "question"
    COFFEE = "coffee"


class TagAsk(SQLModel, table=True):
    """One ask of a member (a question ping or a coffee request): counts against their cap."""

    __tablename__ = "tag_asks"
    __table_args__ = (
        UniqueConstraint("question_id", "member_id"),
        Index("ix_tag_asks_member_time", "member_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = _owner("communities")
    member_id: int = _ref("members")
    # The asker; NULL for anonymous questions or once the asker used /crowdmentor forget.
    asker_id: int | None = _owner("members", nullable=True, ondelete="SET NULL")
    question_id: int | None = _owner("questions", nullable=True)
    kind: str = Field(max_length=16)
    created_at: datetime = _when()


class CoffeeStatus(StrEnum):
    """Where a coffee request stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    NOT_NOW = "not_now"
    EXPIRED = "expired"


class CoffeeRequest(SQLModel, table=True):
    """A request for a short chat about one topic, from one member to another."""

    __tablename__ = "coffee_requests"
    __table_args__ = (Index("ix_coffee_pair", "requester_id", "recipient_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = _owner("communities")
    requester_id: int = _owner("members")
    recipient_id: int = _owner("members")
    topic_id: int = _owner("topics")
    message: str = Field(default="", max_length=500)
    status: str = Field(default=CoffeeStatus.PENDING, max_length=16)
    created_at: datetime = _when()
    answered_at: datetime | None = _when(nullable=True)


class TopicAlias(SQLModel, table=True):
    """An admin's alias: `alias` means `topic` in this community (k8s → kubernetes)."""

    __tablename__ = "topic_aliases"
    __table_args__ = (UniqueConstraint("community_id", "alias"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = _owner("communities")
    alias: str = Field(max_length=40)
    topic: str = Field(max_length=40)
    created_at: datetime = _when()
