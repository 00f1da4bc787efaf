"""Tables for peer-pairing rounds: who takes part, their hints, rounds, groups and outcomes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.store.models import _owner, _when


class Cadence(StrEnum):
    """How often rounds run."""

    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


class PairingSettings(SQLModel, table=True):
    """A community's pairing schedule and channel (set by admins)."""

    __tablename__ = "pairing_settings"

    community_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
        )
    )
    channel_id: str | None = Field(default=None, max_length=64)
    channel_name: str | None = Field(default=None, max_length=100)
    cadence: str | None = Field(default=None, max_length=16)
    weekday: int | None = None  # 0 = Monday
    minute_of_day: int | None = None  # local time of the round, in minutes after midnight
    timezone: str | None = Field(default=None, max_length=64)
    # The first round of the schedule; biweekly rounds count fortnights from here.
    anchor_at: datetime | None = _when(nullable=True)


class PairMember(SQLModel, table=True):
    """A member who joined pairing, with the hints that improve their matches."""

    __tablename__ = "pair_members"
    __table_args__ = (UniqueConstraint("member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = _owner("communities")
    member_id: int = _owner("members")
    active: bool = True
    joined_at: datetime = _when()
    paused_until: datetime | None = _when(nullable=True)
    skip_next: bool = False
    timezone: str | None = Field(default=None, max_length=64)
    work_start_minute: int | None = None
    work_end_minute: int | None = None
    career_stage: int | None = None
    # The fairness ledger: who waited, sat in a trio, got a repeat or a partner who never showed.
    sat_out: int = 0
    trios: int = 0
    repeats: int = 0
    no_shows: int = 0
    ignored_checkins: int = 0


class PairAvoid(SQLModel, table=True):
    """A private "please don't pair me with" entry; never shown to anyone else."""

    __tablename__ = "pair_avoid"
    __table_args__ = (UniqueConstraint("member_id", "avoided_id"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = _owner("communities")
    member_id: int = _owner("members")
    avoided_id: int = _owner("members")


class PairRound(SQLModel, table=True):
    """One round; its (community, key) row is the claim that makes it run exactly once."""

    __tablename__ = "pair_rounds"
    __table_args__ = (UniqueConstraint("community_id", "round_key"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = _owner("communities")
    round_key: str = Field(max_length=64)
    scheduled_for: datetime = _when()
    started_at: datetime = _when()
    present: int = 0
    sat_out: int = 0


class PairGroup(SQLModel, table=True):
    """A group matched in a round, with why they were matched."""

    __tablename__ = "pair_groups"
    __table_args__ = (Index("ix_pair_groups_round", "round_id"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = _owner("communities")
    round_id: int = _owner("pair_rounds")
    reasons: str = Field(default="", max_length=500)
    repeat: bool = False


class CheckinOutcome(StrEnum):
    """What a member said when asked "did you meet?"."""

    PENDING = "pending"
    MET = "met"
    NOT_YET = "not_yet"
    COULDNT = "couldnt"


class PairGroupMember(SQLModel, table=True):
    """A member of a group, with their check-in answer."""

    __tablename__ = "pair_group_members"
    __table_args__ = (UniqueConstraint("group_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = _owner("pair_groups")
    member_id: int = _owner("members")
    outcome: str = Field(default=CheckinOutcome.PENDING, max_length=16)
    answered_at: datetime | None = _when(nullable=True)
