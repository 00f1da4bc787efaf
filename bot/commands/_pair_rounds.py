"""Running a pairing round: gather who is in, match, write groups, send intros and check-ins."""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlmodel import col, select

from bot.adapters.base import DeliveryKind
from bot.commands._buttons import UNKNOWN_BUTTON, community_row
from bot.commands._pair_schedule import MISSED_ROUND_GRACE, next_round, parse_zone, round_key
from bot.commands._people import mention
from bot.context import Context
from bot.errors import NotFoundError, PermissionDeniedError
from bot.matching.engine import Group as EngineGroup
from bot.matching.engine import RoundResult, match_round
from bot.matching.hours import utc_offset_minutes, working_hours_utc
from bot.matching.model import Fairness, History, Ledger, Outcome
from bot.matching.model import Member as Candidate
from bot.replies import (
    Bold,
    Button,
    ButtonStyle,
    Italic,
    Reply,
    Section,
    Visibility,
    rich,
)
from bot.store.models import Member, Question, QuestionTopic, Timer, Topic
from bot.store.pairing_models import (
    Cadence,
    CheckinOutcome,
    PairAvoid,
    PairGroup,
    PairGroupMember,
    PairingSettings,
    PairMember,
    PairRound,
)
from bot.store.repositories import insert_ignoring_conflicts
from bot.store.tag_models import MemberTag

log = logging.getLogger(__name__)

ROUND_TIMER = "pair.round"
CHECKIN_TIMER = "pair.checkin"
CHECKIN_ACTION = "pair.checkin"
CHECKIN_AFTER = timedelta(days=3)
IGNORED_ROUNDS_BEFORE_ASKING = 3
FIRST_QUESTIONS = (
    "What's one thing you learned at work this month that surprised you?",
    "What are you trying to get better at right now, and how?",
    "What's a piece of advice you got that you still use?",
    "What does a good week at work look like for you?",
    "What would you like to be doing in two years?",
)


@dataclass
class Plan:
    """What a round would do (a preview) or did (a real round)."""

    present: list[PairMember]
    result: RoundResult
    members: dict[int, Member] = field(default_factory=dict)
    group_ids: list[int] = field(default_factory=list)

    @property
    def groups(self) -> tuple[EngineGroup, ...]:
        """Return the matched groups."""
        return self.result.groups

    @property
    def left_out(self) -> list[int]:
        """Return who got no group."""
        return [int(entry.member) for entry in self.result.left_out]


async def _settings(ctx: Context) -> PairingSettings:
    found = await ctx.session.get(PairingSettings, ctx.community_id)
    return found or PairingSettings(community_id=ctx.community_id)


async def _history(ctx: Context) -> History:
    """Return every earlier group as matching history, with what its members said at check-in."""
    rows = await ctx.session.exec(
        select(PairGroupMember.group_id, PairGroupMember.member_id, PairGroupMember.outcome)
        .join(PairGroup, col(PairGroup.id) == col(PairGroupMember.group_id))
        .where(PairGroup.community_id == ctx.community_id)
        .order_by(col(PairGroupMember.group_id))
    )
    groups: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for group_id, member_id, outcome in rows.all():
        groups[group_id].append((member_id, outcome))
    history = History()
    for group_id, people in groups.items():
        if len(people) < 2:
            continue  # the others used /crowdmentor forget
        history.record_group([m for m, _ in people], group_id, _outcome({o for _, o in people}))
    return history


def _outcome(answers: set[str]) -> Outcome:
    if CheckinOutcome.MET in answers:
        return Outcome.MET
    if CheckinOutcome.COULDNT in answers:
        return Outcome.COULDNT_MEET  # "we couldn't meet" is not a meeting
    return Outcome.NO_ANSWER


def _candidate(p: PairMember, topics: set[str], now: datetime) -> Candidate:
    offset = None
    if p.timezone:
        try:
            offset = utc_offset_minutes(p.timezone, now)
        except (ValueError, KeyError):
            offset = None
    hours: tuple[tuple[int, int], ...] = ()
    if offset is not None and p.work_start_minute is not None and p.work_end_minute is not None:
        hours = tuple(working_hours_utc(p.work_start_minute, p.work_end_minute, offset))
    return Candidate(
        id=p.member_id,
        utc_offset_minutes=offset,
        working_hours=hours,
        stage=p.career_stage,
        topics=frozenset(topics),
    )


async def _topics_by_member(ctx: Context, member_ids: list[int]) -> dict[int, set[str]]:
    """Return each member's "ask me about" topics and the topics they ask about."""
    topics: dict[int, set[str]] = defaultdict(set)
    tagged = await ctx.session.exec(
        select(MemberTag.member_id, Topic.slug)
        .join(Topic, col(Topic.id) == col(MemberTag.topic_id))
        .where(col(MemberTag.member_id).in_(member_ids), col(MemberTag.dormant).is_(False))
    )
    asked = await ctx.session.exec(
        select(Question.asker_id, Topic.slug)
        .join(QuestionTopic, col(QuestionTopic.question_id) == col(Question.id))
        .join(Topic, col(Topic.id) == col(QuestionTopic.topic_id))
        .where(Question.community_id == ctx.community_id, col(Question.asker_id).in_(member_ids))
    )
    for member_id, slug in [*tagged.all(), *asked.all()]:
        if member_id is not None:
            topics[member_id].add(slug)
    return topics


async def _present(ctx: Context) -> list[PairMember]:
    now = ctx.now()
    query = select(PairMember).where(
        PairMember.community_id == ctx.community_id,
        col(PairMember.active).is_(True),
        col(PairMember.skip_next).is_(False),
        or_(col(PairMember.paused_until).is_(None), col(PairMember.paused_until) <= now),
    )
    return list((await ctx.session.exec(query.order_by(col(PairMember.member_id)))).all())


async def plan_round(ctx: Context, seed: str = "preview") -> Plan:
    """Match the members who are in, without writing anything."""
    present = await _present(ctx)
    ids = [p.member_id for p in present]
    avoid_rows = await ctx.session.exec(
        select(PairAvoid.member_id, PairAvoid.avoided_id).where(
            PairAvoid.community_id == ctx.community_id
        )
    )
    avoid = {frozenset(pair) for pair in avoid_rows.all()}
    topics = await _topics_by_member(ctx, ids)
    now = ctx.now()
    ledger = Ledger(
        {
            p.member_id: Fairness(
                sat_out=p.sat_out, trios=p.trios, repeats=p.repeats, no_shows=p.no_shows
            )
            for p in present
        }
    )
    result = match_round(
        [_candidate(p, topics.get(p.member_id, set()), now) for p in present],
        await _history(ctx),
        ledger,
        [tuple(pair) for pair in avoid if len(pair) == 2],
        seed=f"{ctx.community_id}:{seed}",
    )
    members = {
        m.id: m
        for m in (await ctx.session.exec(select(Member).where(col(Member.id).in_(ids)))).all()
        if m.id is not None
    }
    return Plan(present=present, result=result, members=members)


async def run_round(ctx: Context, key: str, scheduled_for: datetime) -> Plan | None:
    """Run one round exactly once per (community, key); return None if it already ran."""
    claimed = await ctx.session.exec(  # type: ignore[call-overload]
        insert_ignoring_conflicts(
            ctx.session,
            PairRound,
            community_id=ctx.community_id,
            round_key=key,
            scheduled_for=scheduled_for,
            started_at=ctx.now(),
            present=0,
            sat_out=0,
        )
    )
    if not claimed.rowcount:
        log.info("round %s already ran", key)
        return None
    round_row = (
        await ctx.session.exec(
            select(PairRound).where(
                PairRound.community_id == ctx.community_id, PairRound.round_key == key
            )
        )
    ).one()
    await _note_ignored_checkins(ctx)
    plan = await plan_round(ctx, seed=key)
    round_row.present, round_row.sat_out = len(plan.present), len(plan.left_out)
    ctx.session.add(round_row)
    await _reset_skips(ctx)
    settings = await _settings(ctx)
    by_member = {p.member_id: p for p in plan.present}
    for index, engine_group in enumerate(plan.groups):
        group = PairGroup(
            community_id=ctx.community_id,
            round_id=round_row.id or 0,
            reasons=engine_group.reason_text()[:500],
            repeat=bool(engine_group.repeat_pairs),
        )
        ctx.session.add(group)
        await ctx.session.flush()
        assert group.id is not None
        plan.group_ids.append(group.id)
        for member_id in engine_group.members:
            ctx.session.add(PairGroupMember(group_id=group.id, member_id=int(member_id)))
        await _send_intro(ctx, plan, group.id, engine_group, settings, index)
    counters = {"sat_out": "sat_out", "trio": "trios", "repeat": "repeats"}
    for change in plan.result.report.fairness_changes:
        ledger = by_member[int(change.member)]
        setattr(ledger, counters[change.kind], getattr(ledger, counters[change.kind]) + 1)
    for member_id, ledger in by_member.items():
        if member_id not in plan.left_out:
            ledger.sat_out = 0  # waited their turn: priority spent
        ctx.session.add(ledger)
    assert round_row.id is not None
    await ctx.set_timer(
        f"pair:checkin:{round_row.id}", CHECKIN_TIMER, round_row.id, ctx.now() + CHECKIN_AFTER
    )
    log.info("round %s: %d present, %d groups", key, len(plan.present), len(plan.groups))
    return plan


async def _reset_skips(ctx: Context) -> None:
    await ctx.session.exec(  # type: ignore[call-overload]
        update(PairMember)
        .where(
            col(PairMember.community_id) == ctx.community_id, col(PairMember.skip_next).is_(True)
        )
        .values(skip_next=False)
    )


def _intro_key(group_id: int) -> str:
    return f"pair:group:{group_id}:intro"


async def _send_intro(
    ctx: Context,
    plan: Plan,
    group_id: int,
    group: EngineGroup,
    settings: PairingSettings,
    index: int,
) -> None:
    people = [plan.members.get(int(m)) for m in group.members]
    names = [mention(p, missing="someone") for p in people]
    joined = rich(
        *[
            rich(n, ", " if i < len(names) - 2 else (" and " if i == len(names) - 2 else ""))
            for i, n in enumerate(names)
        ]
    )
    why = group.reason_text() or "you're all here to meet new people"
    question = FIRST_QUESTIONS[(group_id + index) % len(FIRST_QUESTIONS)]
    reply = Reply(
        text=rich("👋 Meet ", joined, "! You're this round's group."),
        sections=(
            Section(
                heading=rich(Bold("Why you were matched")),
                body=rich(why[:1].upper() + why[1:], "."),
            ),
            Section(heading=rich(Bold("A first question to try")), body=rich(question)),
            Section(
                body=rich("Find 20 minutes that suits you all. I'll check in later in the round.")
            ),
        ),
        visibility=Visibility.GROUP,
    )
    await ctx.send(
        _intro_key(group_id),
        DeliveryKind.GROUP,
        reply,
        channel_id=settings.channel_id,
        recipient_ids=tuple(p.external_id for p in people if p is not None),
        thread_title=f"Pairing: {' & '.join(p.display_name for p in people if p)}"[:100],
        subject_id=group_id,
    )


async def scheduled_round(ctx: Context, timer: Timer) -> None:
    """Run the round that fell due (once), then arm the next one."""
    settings = await _settings(ctx)
    if not (settings.cadence and settings.timezone) or settings.weekday is None:
        return
    assert settings.minute_of_day is not None
    due = timer.due_at
    if ctx.now() - due <= MISSED_ROUND_GRACE:
        await run_round(ctx, round_key(due), due)
    else:
        log.warning("round due %s was missed by more than the grace period; skipping it", due)
    upcoming = next_round(
        Cadence(settings.cadence),
        settings.weekday,
        settings.minute_of_day,
        parse_zone(settings.timezone),
        max(ctx.now(), due),
        settings.anchor_at,
    )
    await ctx.set_timer(ROUND_TIMER, ROUND_TIMER, ctx.community_id, upcoming)


async def send_checkins(ctx: Context, timer: Timer) -> None:
    """Ask each group of a round "did you meet?"."""
    groups = await ctx.session.exec(select(PairGroup).where(PairGroup.round_id == timer.subject_id))
    for group in groups.all():
        assert group.id is not None
        buttons = tuple(
            Button(CHECKIN_ACTION, label, f"{group.id}:{outcome.value}", style)
            for label, outcome, style in (
                ("We met", CheckinOutcome.MET, ButtonStyle.PRIMARY),
                ("Not yet", CheckinOutcome.NOT_YET, ButtonStyle.DEFAULT),
                ("We couldn't", CheckinOutcome.COULDNT, ButtonStyle.DEFAULT),
            )
        )
        await ctx.send(
            f"pair:group:{group.id}:checkin",
            DeliveryKind.THREAD,
            Reply(
                text=rich("☕ Halfway through the round: did you manage to meet?"),
                buttons=buttons,
                visibility=Visibility.GROUP,
            ),
            parent_key=_intro_key(group.id),
        )


async def record_checkin(ctx: Context, value: str) -> Reply:
    """Store one member's check-in answer for their group."""
    assert ctx.member is not None
    group_part, _, outcome_part = value.partition(":")
    try:
        outcome = CheckinOutcome(outcome_part)
    except ValueError:
        raise NotFoundError(UNKNOWN_BUTTON) from None
    group = await community_row(
        ctx, PairGroup, group_part, gone="I can't find that group. Nothing was changed."
    )
    group_id = group.id
    mine = (
        await ctx.session.exec(
            select(PairGroupMember).where(
                PairGroupMember.group_id == group_id, PairGroupMember.member_id == ctx.member.id
            )
        )
    ).first()
    if mine is None:
        raise PermissionDeniedError("Only people in this group can answer for it.")
    mine.outcome, mine.answered_at = outcome, ctx.now()
    ctx.session.add(mine)
    membership = (
        await ctx.session.exec(select(PairMember).where(PairMember.member_id == ctx.member.id))
    ).first()
    if membership is not None:
        membership.ignored_checkins = 0
        ctx.session.add(membership)
    if outcome is CheckinOutcome.COULDNT:
        await _note_no_show(ctx, group_id)
    return Reply.say(
        {
            CheckinOutcome.MET: "Lovely, thanks for telling me!",
            CheckinOutcome.NOT_YET: "No rush: there's still time this round.",
            CheckinOutcome.COULDNT: (
                "That happens. It won't count as a meeting, and you'll get priority next round."
            ),
            CheckinOutcome.PENDING: "Noted.",
        }[outcome]
    )


async def _note_no_show(ctx: Context, group_id: int) -> None:
    """Give everyone in a group that couldn't meet priority next round."""
    rows = await ctx.session.exec(
        select(PairGroupMember.member_id).where(PairGroupMember.group_id == group_id)
    )
    await ctx.session.exec(  # type: ignore[call-overload]
        update(PairMember)
        .where(col(PairMember.member_id).in_(list(rows.all())))
        .values(no_shows=PairMember.no_shows + 1)
    )


async def _note_ignored_checkins(ctx: Context) -> None:
    """Count members who never answered their last check-in; ask after three rounds in a row."""
    last_round = (
        await ctx.session.exec(
            select(PairRound.id)
            .where(PairRound.community_id == ctx.community_id)
            .order_by(col(PairRound.id).desc())
            .offset(1)
            .limit(1)
        )
    ).first()
    if last_round is None:
        return
    silent = await ctx.session.exec(
        select(PairGroupMember.member_id)
        .join(PairGroup, col(PairGroup.id) == col(PairGroupMember.group_id))
        .where(PairGroup.round_id == last_round, PairGroupMember.outcome == CheckinOutcome.PENDING)
    )
    for member_id in silent.all():
        membership = (
            await ctx.session.exec(select(PairMember).where(PairMember.member_id == member_id))
        ).first()
        if membership is None or not membership.active:
            continue
        membership.ignored_checkins += 1
        ctx.session.add(membership)
        if membership.ignored_checkins >= IGNORED_ROUNDS_BEFORE_ASKING:
            member = await ctx.session.get(Member, member_id)
            if member is None:
                continue
            await ctx.send(
                f"pair:still-in:{member_id}:{last_round}",
                DeliveryKind.DIRECT,
                Reply(
                    text=rich(
                        "Hi! You haven't answered the last few pairing check-ins. "
                        "Would you like to stay in the rounds? Either answer is fine."
                    ),
                    buttons=(
                        Button("pair.stay", "Keep pairing me", "", ButtonStyle.PRIMARY),
                        Button("pair.leave", "Leave pairing", ""),
                    ),
                    visibility=Visibility.DIRECT,
                ),
                recipient_ids=(member.external_id,),
                member_id=member_id,
            )
            membership.ignored_checkins = 0


def _name(plan: Plan, member: object) -> str:
    found = plan.members.get(int(str(member)))
    return found.display_name if found else "?"


def describe_plan(plan: Plan, *, heading: str) -> Reply:
    """Summarise a round for admins: counts, repeats, trio, who sat out."""
    report = plan.result.report
    trio = report.trios
    lines = [
        rich(
            " & ".join(_name(plan, m) for m in g.members),
            Italic(f" ({g.reason_text()})" if g.reasons else ""),
            "\n",
        )
        for g in plan.groups[:25]
    ]
    more = len(plan.groups) - 25
    count = len(plan.groups)
    body = rich(
        f"• {len(plan.present)} people in, {count} group{'s' if count != 1 else ''}"
        f" ({trio} larger group{'s' if trio != 1 else ''})\n",
        f"• Repeated pairs: {report.repeats}"
        f" (the least possible this round: {report.min_repeats})\n",
        f"• Sitting out: {len(plan.left_out)}\n",
    )
    sections = [Section(body=body)]
    if lines:
        sections.append(
            Section(
                heading=rich(Bold("Groups")),
                body=rich(*lines, f"… and {more} more" if more > 0 else ""),
            )
        )
    return Reply(text=rich(Bold(heading)), sections=tuple(sections))


async def stats(ctx: Context) -> Reply:
    """Report rounds, participation, met rate, repeat rate and new connections."""
    round_rows = (
        await ctx.session.exec(select(PairRound).where(PairRound.community_id == ctx.community_id))
    ).all()
    groups = (
        await ctx.session.exec(select(PairGroup).where(PairGroup.community_id == ctx.community_id))
    ).all()
    outcomes = (
        await ctx.session.exec(
            select(PairGroupMember.group_id, PairGroupMember.outcome)
            .join(PairGroup, col(PairGroup.id) == col(PairGroupMember.group_id))
            .where(PairGroup.community_id == ctx.community_id)
        )
    ).all()
    by_group: dict[int, set[str]] = defaultdict(set)
    for group_id, outcome in outcomes:
        by_group[group_id].add(outcome)
    answered = [o for o in by_group.values() if o - {CheckinOutcome.PENDING}]
    met = [o for o in answered if CheckinOutcome.MET in o]
    members = await ctx.session.exec(
        select(func.count())
        .select_from(PairMember)
        .where(PairMember.community_id == ctx.community_id, col(PairMember.active).is_(True))
    )
    connections = len(await _history(ctx))
    average = sum(r.present for r in round_rows) / len(round_rows) if round_rows else 0

    def pct(part: int, whole: int) -> str:
        return f"{100 * part / whole:.0f}%" if whole else "n/a"

    body = rich(
        f"• Rounds: {len(round_rows)}\n",
        f"• Members in pairing: {members.one()} (on average {average:.1f} per round)\n",
        f"• Met rate: {pct(len(met), len(answered))} of groups that answered the check-in\n",
        f"• Repeat rate: {pct(sum(g.repeat for g in groups), len(groups))} of groups\n",
        f"• New connections: {connections} pairs of people introduced",
    )
    return Reply(text=rich(Bold("Pairing stats")), sections=(Section(body=body),))


async def export_member(ctx: Context, person: Member) -> dict[str, Any]:
    """Return a member's pairing profile and rounds (never who has them on a do-not-pair list)."""
    membership = (
        await ctx.session.exec(select(PairMember).where(PairMember.member_id == person.id))
    ).first()
    avoided = await ctx.session.exec(
        select(Member.display_name)
        .join(PairAvoid, col(PairAvoid.avoided_id) == col(Member.id))
        .where(PairAvoid.member_id == person.id)
    )
    rounds = await ctx.session.exec(
        select(
            PairRound.round_key,
            PairGroupMember.outcome,
            PairGroupMember.answered_at,
            PairGroup.reasons,
        )
        .join(PairGroup, col(PairGroup.round_id) == col(PairRound.id))
        .join(PairGroupMember, col(PairGroupMember.group_id) == col(PairGroup.id))
        .where(PairGroupMember.member_id == person.id)
    )
    profile = (
        {
            k: v.isoformat() if isinstance(v, datetime) else v
            for k, v in dataclasses.asdict(_Profile.of(membership)).items()
        }
        if membership
        else None
    )
    return {
        "profile": profile,
        "do_not_pair_with": sorted(avoided.all()),
        "rounds": [
            {
                "round": key,
                "check_in": outcome,
                "answered_at": answered.isoformat() if answered else None,
                "why_matched": reasons,
            }
            for key, outcome, answered, reasons in rounds.all()
        ],
    }


@dataclass
class _Profile:
    active: bool
    joined_at: datetime
    paused_until: datetime | None
    timezone: str | None
    work_start_minute: int | None
    work_end_minute: int | None
    career_stage: int | None
    skip_next: bool
    # The fairness ledger is about them too.
    sat_out: int
    trios: int
    repeats: int
    no_shows: int
    ignored_checkins: int

    @classmethod
    def of(cls, row: PairMember) -> _Profile:
        return cls(**{f.name: getattr(row, f.name) for f in dataclasses.fields(cls)})


async def forget_member(ctx: Context, person: Member) -> dict[str, int]:
    """Delete a member's pairing profile, their group memberships and do-not-pair entries."""
    avoid = await ctx.session.exec(  # type: ignore[call-overload]
        delete(PairAvoid).where(
            or_(col(PairAvoid.member_id) == person.id, col(PairAvoid.avoided_id) == person.id)
        )
    )
    history = await ctx.session.exec(  # type: ignore[call-overload]
        delete(PairGroupMember).where(col(PairGroupMember.member_id) == person.id)
    )
    profile = await ctx.session.exec(  # type: ignore[call-overload]
        delete(PairMember).where(col(PairMember.member_id) == person.id)
    )
    return {
        "pairing profile": profile.rowcount,
        "pairing groups left": history.rowcount,
        "do-not-pair entries": avoid.rowcount,
    }
