"""The tables. Every row that belongs to a member is reachable from `members.id`."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.types import UTCDateTime


def _when(*, nullable: bool = False, index: bool = False) -> datetime:
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index))  # type: ignore[no-any-return]


def _owner(table: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> int:
    return Field(  # type: ignore[no-any-return]
        sa_column=Column(
            Integer, ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable, index=True
        )
    )


class Community(SQLModel, table=True):
    """A Slack workspace, Discord guild or console."""

    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    question_seq: int = 0
    created_at: datetime = _when()
    removed_at: datetime | None = _when(nullable=True)


class CommunitySettings(SQLModel, table=True):
    """What admins changed; anything left None falls back to config/default.toml."""

    __tablename__ = "community_settings"

    community_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
        )
    )
    ask_channel_id: str | None = Field(default=None, max_length=64)
    ask_channel_name: str | None = Field(default=None, max_length=100)
    allow_anonymous: bool | None = None
    nudge_after_hours: int | None = None
    close_after_days: int | None = None


class Member(SQLModel, table=True):
    """A person in a community, known by the platform's id."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("community_id", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = _owner("communities")
    external_id: str = Field(max_length=64)
    display_name: str = Field(default="", max_length=100)
    created_at: datetime = _when()
    last_seen_at: datetime = _when()


class Role(StrEnum):
    """Roles granted inside crowdmentor (platform admins are admins already)."""

    ADMIN = "admin"
    MODERATOR = "moderator"


class CommunityRole(SQLModel, table=True):
    """A member named admin or moderator in settings."""

    __tablename__ = "community_roles"
    __table_args__ = (UniqueConstraint("member_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = _owner("communities")
    member_id: int = _owner("members")
    role: str = Field(max_length=16)


class Topic(SQLModel, table=True):
    """A normalised topic label within a community."""

    __tablename__ = "topics"
    __table_args__ = (UniqueConstraint("community_id", "slug"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = _owner("communities")
    slug: str = Field(max_length=40)
    created_at: datetime = _when()


class QuestionStatus(StrEnum):
    """Where a question is in its life."""

    DRAFT = "draft"  # shown similar questions, waiting for "post anyway"
    OPEN = "open"
    RESOLVED = "resolved"
    CLOSED = "closed"  # closed politely after a quiet spell
    DISCARDED = "discarded"  # the asker found their answer before posting


class Question(SQLModel, table=True):
    """A question asked to the community; answers live in its thread."""

    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        Index("ix_questions_community_status", "community_id", "status"),
        Index("ix_questions_thread", "community_id", "thread_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = _owner("communities")
    # Given when the question is posted; a draft waiting for "post anyway" has none.
    number: int | None = None
    # NULL once the asker used /crowdmentor forget: the question stays, the person goes.
    asker_id: int | None = _owner("members", nullable=True, ondelete="SET NULL")
    anonymous: bool = False
    text: str
    context: str = ""
    status: str = Field(default=QuestionStatus.OPEN, max_length=16)
    channel_id: str = Field(max_length=64)
    post_ref: str | None = Field(default=None, max_length=128)
    thread_ref: str | None = Field(default=None, max_length=128)
    reply_count: int = 0
    created_at: datetime = _when()
    posted_at: datetime | None = _when(nullable=True)
    last_activity_at: datetime = _when()
    nudged_at: datetime | None = _when(nullable=True)
    resolved_at: datetime | None = _when(nullable=True)
    resolved_by_id: int | None = _owner("members", nullable=True, ondelete="SET NULL")
    helped_by_id: int | None = _owner("members", nullable=True, ondelete="SET NULL")
    closed_at: datetime | None = _when(nullable=True)


class QuestionTopic(SQLModel, table=True):
    """A topic attached to a question."""

    __tablename__ = "question_topics"

    question_id: int = Field(
        sa_column=Column(Integer, ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    )
    topic_id: int = Field(
        sa_column=Column(Integer, ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True)
    )


class QuestionReply(SQLModel, table=True):
    """One reply in a question's thread: who, when, which message. The text is not kept."""

    __tablename__ = "question_replies"
    __table_args__ = (UniqueConstraint("question_id", "message_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = _owner("questions")
    author_id: int | None = _owner("members", nullable=True, ondelete="SET NULL")
    message_ref: str = Field(max_length=128)
    created_at: datetime = _when()


class OutboxStatus(StrEnum):
    """Delivery state of an outbox row."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after every retry; kept for the operator to see


class OutboxMessage(SQLModel, table=True):
    """A message the bot has decided to send, written in the same transaction as the decision."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("community_id", "key"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = _owner("communities")
    key: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    channel_id: str | None = Field(default=None, max_length=64)
    thread_ref: str | None = Field(default=None, max_length=128)
    update_ref: str | None = Field(default=None, max_length=128)
    # The outbox key of the message this one answers in (or edits), when that one may not have
    # been delivered yet: its platform refs are looked up at delivery time.
    parent_key: str | None = Field(default=None, max_length=200)
    recipient_ids: str = Field(default="", max_length=2000)
    thread_title: str = Field(default="", max_length=100)
    # Topics of what is posted (Discord forum posts turn them into forum tags).
    topics: str = Field(default="", max_length=300)
    handle: str = Field(default="", max_length=40)
    payload: str
    # The member this message is about, so /crowdmentor forget can remove what waits for them.
    member_id: int | None = _owner("members", nullable=True)
    on_delivered: str = Field(default="", max_length=64)
    subject_id: int | None = None
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = _when()
    lease_until: datetime | None = _when(nullable=True)
    platform_ref: str | None = Field(default=None, max_length=128)
    platform_thread_ref: str | None = Field(default=None, max_length=128)
    # Where the platform put it (a group conversation gets a channel of its own).
    platform_channel_id: str | None = Field(default=None, max_length=64)
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = _when()
    sent_at: datetime | None = _when(nullable=True)


class Timer(SQLModel, table=True):
    """Something to do at a time (a nudge, a close); fired exactly once by a conditional update."""

    __tablename__ = "timers"
    __table_args__ = (
        UniqueConstraint("community_id", "key"),
        Index("ix_timers_pending", "fired_at", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = _owner("communities")
    key: str = Field(max_length=200)
    kind: str = Field(max_length=64)
    subject_id: int
    due_at: datetime = _when()
    fired_at: datetime | None = _when(nullable=True)
    attempts: int = 0


class SlackInstallation(SQLModel, table=True):
    """A Slack workspace that installed crowdmentor through OAuth (multi-workspace mode).

    Tokens are sealed (encrypted and authenticated) by `bot.store.slack_installations` before
    they are written, so a copy of the database alone does not hand out working bot tokens.
    """

    __tablename__ = "slack_installations"
    __table_args__ = (UniqueConstraint("team_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    team_name: str = Field(default="", max_length=200)
    enterprise_id: str | None = Field(default=None, max_length=32)
    app_id: str = Field(default="", max_length=32)
    bot_id: str = Field(default="", max_length=32)
    bot_user_id: str = Field(default="", max_length=32)
    bot_scopes: str = Field(default="", max_length=2000)
    bot_token: str = Field(max_length=1000)
    bot_refresh_token: str | None = Field(default=None, max_length=1000)
    bot_token_expires_at: datetime | None = _when(nullable=True)
    installer_user_id: str = Field(default="", max_length=32)
    installed_at: datetime = _when()


class SlackOAuthState(SQLModel, table=True):
    """A pending OAuth `state`: issued once, consumed once, valid for a few minutes."""

    __tablename__ = "slack_oauth_states"

    state: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = _when()
