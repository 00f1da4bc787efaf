"""What a handler gets: who, where, the unit of work, and ways to post and schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import outbox, timers
from bot.adapters.base import DeliveryKind
from bot.clock import Clock
from bot.events import Actor, Place
from bot.registry import Access, Registry
from bot.replies import Reply
from bot.settings import Settings
from bot.store.db import Database, UnitOfWork
from bot.store.models import Community, Member


class Runtime(Protocol):
    """The running parts a handler may poke once its transaction has committed."""

    def wake_delivery(self) -> None:
        """Tell the outbox worker there is something to send."""

    def arm_timer(self, timer_id: int, due_at: datetime) -> None:
        """Tell the scheduler about a timer."""


class QuietRuntime:
    """A runtime that does nothing (batch tools, benchmarks): rows still wait in the database."""

    def wake_delivery(self) -> None:
        """Do nothing; the worker's poll finds the rows."""

    def arm_timer(self, timer_id: int, due_at: datetime) -> None:
        """Do nothing; the scheduler's sweep finds the timer."""


@dataclass(frozen=True)
class Services:
    """The long-lived parts every worker shares: store, registry, settings, clock, runtime."""

    database: Database
    registry: Registry
    settings: Settings
    clock: Clock
    runtime: Runtime

    def context(
        self,
        uow: UnitOfWork,
        community: Community,
        *,
        invocation_id: str,
        access: Access = Access.MEMBER,
        member: Member | None = None,
        actor: Actor | None = None,
        place: Place | None = None,
    ) -> Context:
        """Return a handler context for one unit of work."""
        return Context(
            invocation_id=invocation_id,
            uow=uow,
            community=community,
            settings=self.settings,
            clock=self.clock,
            registry=self.registry,
            runtime=self.runtime,
            member=member,
            actor=actor,
            place=place,
            access=access,
        )


@dataclass
class Context:
    """Everything one handler call may use."""

    invocation_id: str
    uow: UnitOfWork
    community: Community
    settings: Settings
    clock: Clock
    registry: Registry
    runtime: Runtime
    member: Member | None = None
    actor: Actor | None = None
    place: Place | None = None
    access: Access = Access.MEMBER

    @property
    def session(self) -> AsyncSession:
        """Return the transaction's session."""
        return self.uow.session

    @property
    def community_id(self) -> int:
        """Return the community's row id."""
        assert self.community.id is not None
        return self.community.id

    def now(self) -> datetime:
        """Return the current time."""
        return self.clock.now()

    def is_moderator(self) -> bool:
        """Tell whether the caller may moderate (admins may too)."""
        return self.access >= Access.MODERATOR

    async def send(
        self,
        key: str,
        kind: DeliveryKind,
        reply: Reply,
        **fields: object,
    ) -> bool:
        """Queue a message in this transaction; it is delivered once the transaction commits."""
        queued = await outbox.enqueue(
            self.session,
            community_id=self.community_id,
            key=key,
            kind=kind,
            reply=reply,
            now=self.now(),
            **fields,  # type: ignore[arg-type]
        )
        if queued:
            self.uow.after_commit(self.runtime.wake_delivery)
        return queued

    async def set_timer(self, key: str, kind: str, subject_id: int, due_at: datetime) -> None:
        """Schedule `kind` for `subject_id` at `due_at` (replacing a timer with the same key)."""
        timer = await timers.set_timer(
            self.session,
            community_id=self.community_id,
            key=key,
            kind=kind,
            subject_id=subject_id,
            due_at=due_at,
        )
        timer_id = timer.id
        assert timer_id is not None
        self.uow.after_commit(lambda: self.runtime.arm_timer(timer_id, due_at))

    async def cancel_timer(self, key: str) -> None:
        """Drop a timer (an armed job finds no row and does nothing)."""
        await timers.cancel_timer(self.session, community_id=self.community_id, key=key)
