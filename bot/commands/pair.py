"""Peer pairing: `/pair` for members (join, pause, hints) and admins (schedule, preview, stats)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col, select

from bot.args import ChannelRef, UserRef
from bot.commands import _pair_rounds as rounds
from bot.commands._pair_schedule import (
    WEEKDAYS,
    next_round,
    parse_clock,
    parse_weekday,
    parse_zone,
)
from bot.commands._pause import PAUSE_UNTIL, pause_end
from bot.commands._people import person_named
from bot.context import Context
from bot.errors import BadArgumentsError, UserError
from bot.registry import (
    Access,
    Param,
    ParamKind,
    action,
    command,
    group,
    on_export,
    on_forget,
    on_timer,
)
from bot.replies import Bold, ChannelLink, Code, Reply, Section, rich
from bot.store.models import Member, Timer
from bot.store.pairing_models import Cadence, PairAvoid, PairingSettings, PairMember

PAIR = group("pair", summary="Meet a peer on a schedule: join, pause, and say what helps a match")

STAGES = ("student", "junior", "mid", "senior", "staff", "principal")
PAUSE_MAX = timedelta(days=366)
STAY_ACTION = "pair.stay"
LEAVE_ACTION = "pair.leave"
CHECKIN_ACTION = rounds.CHECKIN_ACTION


async def _membership(ctx: Context) -> PairMember | None:
    assert ctx.member is not None
    query = select(PairMember).where(PairMember.member_id == ctx.member.id)
    return (await ctx.session.exec(query)).first()


async def _joined(ctx: Context) -> PairMember:
    found = await _membership(ctx)
    if found is None or not found.active:
        raise UserError(rich("You haven't joined pairing yet: ", Code("/pair join"), "."))
    return found


async def _settings(ctx: Context) -> PairingSettings:
    found = await ctx.session.get(PairingSettings, ctx.community_id)
    return found or PairingSettings(community_id=ctx.community_id)


@command("pair", "join", summary="Join the pairing rounds")
async def join(ctx: Context) -> Reply:
    """Join pairing (again)."""
    assert ctx.member is not None
    found = await _membership(ctx)
    if found is not None and found.active:
        return Reply.say("You're already in. ", Code("/pair status"), " shows what's next.")
    if found is None:
        found = PairMember(
            community_id=ctx.community_id,
            member_id=ctx.member.id or 0,
            joined_at=ctx.now(),
            timezone=ctx.actor.timezone if ctx.actor else None,
        )
    found.active, found.paused_until, found.skip_next = True, None, False
    ctx.session.add(found)
    schedule = await _settings(ctx)
    when = (
        rich(" The next round is ", Bold(_when(ctx, schedule)), ".")
        if schedule.cadence
        else rich(" Rounds start once an admin sets a schedule.")
    )
    return Reply.say(
        "Welcome to pairing! You'll be introduced to a peer each round.",
        when,
        " Help your matches with ",
        Code("/pair timezone"),
        ", ",
        Code("/pair hours"),
        " and ",
        Code("/pair stage"),
        ".",
    )


@command("pair", "leave", summary="Leave the pairing rounds (you can come back any time)")
async def leave(ctx: Context) -> Reply:
    """Leave pairing."""
    found = await _joined(ctx)
    found.active = False
    ctx.session.add(found)
    return Reply.say("You've left pairing. Come back any time with ", Code("/pair join"), ".")


@command("pair", "skip", summary="Sit out the next round only")
async def skip(ctx: Context) -> Reply:
    """Skip the next round."""
    found = await _joined(ctx)
    found.skip_next = True
    ctx.session.add(found)
    return Reply.say("You'll sit out the next round and be back in the one after.")


@command(
    "pair",
    "pause",
    summary="Pause pairing until a date (2026-12-24) or for a while (2w)",
    params=(PAUSE_UNTIL,),
)
async def pause(ctx: Context, until: str) -> Reply:
    """Pause pairing for a while."""
    found = await _joined(ctx)
    end = pause_end(
        until,
        ctx.now(),
        PAUSE_MAX,
        too_long="Pauses can last at most a year; /pair leave is there for longer.",
    )
    found.paused_until = end
    ctx.session.add(found)
    return Reply.say("Paused until ", Bold(end.strftime("%Y-%m-%d")), ". Enjoy the break!")


@command("pair", "resume", summary="Resume pairing after a pause or a skip")
async def resume(ctx: Context) -> Reply:
    """End a pause or a skip."""
    found = await _joined(ctx)
    found.paused_until, found.skip_next = None, False
    ctx.session.add(found)
    return Reply.say("You're back in the next round.")


def _when(ctx: Context, schedule: PairingSettings) -> str:
    if not (schedule.cadence and schedule.timezone):
        return "not scheduled yet"
    assert schedule.weekday is not None
    assert schedule.minute_of_day is not None
    zone = parse_zone(schedule.timezone)
    upcoming = next_round(
        Cadence(schedule.cadence),
        schedule.weekday,
        schedule.minute_of_day,
        zone,
        ctx.now(),
        schedule.anchor_at,
    )
    return upcoming.astimezone(zone).strftime(f"%A %d %B %H:%M ({schedule.timezone})")


@command("pair", "status", summary="See whether you're in, paused, and your hints")
async def status(ctx: Context) -> Reply:
    """Show the member's pairing status."""
    found = await _membership(ctx)
    schedule = await _settings(ctx)
    if found is None or not found.active:
        return Reply.say(
            "You're not in pairing. ", Code("/pair join"), " to meet a peer each round."
        )
    if found.paused_until and found.paused_until > ctx.now():
        state = rich("paused until ", Bold(found.paused_until.strftime("%Y-%m-%d")))
    elif found.skip_next:
        state = rich("sitting out the next round")
    else:
        state = rich(Bold("in"), " for the next round")
    hours = (
        f"{found.work_start_minute // 60:02d}:{found.work_start_minute % 60:02d}-"
        f"{found.work_end_minute // 60:02d}:{found.work_end_minute % 60:02d}"
        if found.work_start_minute is not None and found.work_end_minute is not None
        else "not set"
    )
    stage = STAGES[found.career_stage] if found.career_stage is not None else "not set"
    avoided = await ctx.session.exec(
        select(PairAvoid.id).where(PairAvoid.member_id == found.member_id)
    )
    body = rich(
        "• You are ", state, "\n",
        "• Next round: ", _when(ctx, schedule), "\n",
        "• Time zone: ", found.timezone or "not set", "\n",
        "• Working hours: ", hours, "\n",
        "• Career stage: ", stage, "\n",
        f"• People you'd rather not be paired with: {len(avoided.all())} (only you see this)",
    )  # fmt: skip
    return Reply(text=rich(Bold("Your pairing")), sections=(Section(body=body),))


@command(
    "pair",
    "timezone",
    summary="Set your time zone, e.g. Europe/Berlin",
    params=(Param("zone", ParamKind.WORD, "An IANA time zone like Europe/Berlin", required=True),),
)
async def timezone(ctx: Context, zone: str) -> Reply:
    """Set the member's time zone."""
    found = await _joined(ctx)
    try:
        parse_zone(zone)
    except ValueError as error:
        raise BadArgumentsError(str(error)) from None
    found.timezone = zone
    ctx.session.add(found)
    return Reply.say("Time zone set to ", Bold(zone), ".")


@command(
    "pair",
    "hours",
    summary="Set your usual working hours, e.g. 09:00-17:00",
    params=(Param("hours", ParamKind.WORD, "Start and end, like 09:00-17:00", required=True),),
)
async def hours(ctx: Context, hours: str) -> Reply:
    """Set the member's working hours (in their time zone)."""
    found = await _joined(ctx)
    start, _, end = hours.partition("-")
    try:
        start_minute, end_minute = parse_clock(start), parse_clock(end)
    except ValueError as error:
        raise BadArgumentsError(f"{error}. Write it like 09:00-17:00.") from None
    if start_minute == end_minute:
        raise BadArgumentsError("Start and end can't be the same time.")
    found.work_start_minute, found.work_end_minute = start_minute, end_minute
    ctx.session.add(found)
    tz_hint = "" if found.timezone else " Set your time zone too, so I can compare hours."
    return Reply.say("Working hours set to ", Bold(hours), ".", tz_hint)


@command(
    "pair",
    "stage",
    summary="Say where you are in your career (optional)",
    params=(
        Param("stage", ParamKind.CHOICE, "Your stage", required=True, choices=(*STAGES, "clear")),
    ),
)
async def stage(ctx: Context, stage: str) -> Reply:
    """Set or clear the member's career stage."""
    found = await _joined(ctx)
    found.career_stage = None if stage == "clear" else STAGES.index(stage)
    ctx.session.add(found)
    if stage == "clear":
        return Reply.say("Career stage cleared.")
    return Reply.say("Career stage set to ", Bold(stage), ": I'll favour near-peers.")


@command(
    "pair",
    "avoid",
    summary="Privately never be paired with someone (only you ever see this)",
    params=(
        Param(
            "change", ParamKind.CHOICE, "add or remove", required=True, choices=("add", "remove")
        ),
        Param("person", ParamKind.USER, "Who", required=True),
    ),
)
async def avoid(ctx: Context, change: str, person: UserRef) -> Reply:
    """Add or remove someone on the member's private do-not-pair list."""
    assert ctx.member is not None
    other = await person_named(ctx, person)
    if other.id == ctx.member.id:
        raise BadArgumentsError("You'll never be paired with yourself.")
    if change == "add":
        exists = await ctx.session.exec(
            select(PairAvoid.id).where(
                PairAvoid.member_id == ctx.member.id, PairAvoid.avoided_id == other.id
            )
        )
        if exists.first() is None:
            ctx.session.add(
                PairAvoid(
                    community_id=ctx.community_id,
                    member_id=ctx.member.id or 0,
                    avoided_id=other.id or 0,
                )
            )
        return Reply.say("Done. You won't be paired with them, and nobody else will know.")
    await ctx.session.exec(  # type: ignore[call-overload]
        delete(PairAvoid).where(
            col(PairAvoid.member_id) == ctx.member.id, col(PairAvoid.avoided_id) == other.id
        )
    )
    return Reply.say("Removed from your private list.")


# ---- admins ----------------------------------------------------------------------------------


@command(
    "pair",
    "schedule",
    summary="Set when rounds run, e.g. weekly monday 09:00 Europe/Berlin",
    params=(
        Param(
            "cadence",
            ParamKind.CHOICE,
            "How often",
            required=True,
            choices=tuple(c.value for c in Cadence),
        ),
        Param("weekday", ParamKind.WORD, "monday … sunday", required=True),
        Param("time", ParamKind.WORD, "Local time, like 09:00", required=True),
        Param("zone", ParamKind.WORD, "Time zone, like Europe/Berlin", required=True),
    ),
    access=Access.ADMIN,
    examples=("/pair schedule weekly monday 09:00 Europe/Berlin",),
)
async def schedule(ctx: Context, cadence: str, weekday: str, time: str, zone: str) -> Reply:
    """Set the round schedule and arm the next round."""
    try:
        day, minute, tz = parse_weekday(weekday), parse_clock(time), parse_zone(zone)
    except ValueError as error:
        raise BadArgumentsError(str(error)) from None
    current = await _settings(ctx)
    current.cadence, current.weekday, current.minute_of_day, current.timezone = (
        cadence,
        day,
        minute,
        zone,
    )
    first = next_round(Cadence(cadence), day, minute, tz, ctx.now())
    current.anchor_at = first
    ctx.session.add(current)
    await ctx.set_timer(rounds.ROUND_TIMER, rounds.ROUND_TIMER, ctx.community_id, first)
    local = first.astimezone(tz).strftime("%A %d %B %H:%M")
    channel = (
        rich(" Intros go to ", ChannelLink(current.channel_id, current.channel_name or ""), ".")
        if current.channel_id
        else rich(" Set the channel for group intros with ", Code("/pair channel #channel"), ".")
    )
    return Reply.say(
        f"Rounds run {cadence} on {WEEKDAYS[day].capitalize()} at {time} ({zone}). The first is ",
        Bold(local),
        ".",
        channel,
    )


@command(
    "pair",
    "channel",
    summary="Set the channel for pairing intros (Discord: private threads there)",
    params=(Param("channel", ParamKind.CHANNEL, "The pairing channel", required=True),),
    access=Access.ADMIN,
)
async def channel(ctx: Context, channel: ChannelRef) -> Reply:
    """Set the pairing channel."""
    current = await _settings(ctx)
    current.channel_id, current.channel_name = channel.channel_id[:64], channel.name[:100] or None
    ctx.session.add(current)
    return Reply.say(
        "Pairing intros will start in ", ChannelLink(channel.channel_id, channel.name), "."
    )


@command(
    "pair",
    "preview",
    summary="Dry run: who would meet, with repeat and fairness figures",
    access=Access.ADMIN,
)
async def preview(ctx: Context) -> Reply:
    """Match without saving anything and report what would happen."""
    plan = await rounds.plan_round(ctx)
    return rounds.describe_plan(plan, heading="Preview (nothing was sent or saved)")


@command("pair", "now", summary="Run a round right now", access=Access.ADMIN, slow=True)
async def now(ctx: Context) -> Reply:
    """Run an extra round immediately."""
    key = "manual-" + ctx.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    plan = await rounds.run_round(ctx, key, ctx.now())
    if plan is None:
        return Reply.say("A round is already running; nothing was done twice.")
    return rounds.describe_plan(plan, heading="Round started: intros are on their way")


@command(
    "pair",
    "stats",
    summary="Rounds, participation, met rate, repeats, new connections",
    access=Access.ADMIN,
)
async def stats(ctx: Context) -> Reply:
    """Report pairing figures."""
    return await rounds.stats(ctx)


@action(CHECKIN_ACTION)
async def checkin(ctx: Context, value: str) -> Reply:
    """Record a "did you meet?" answer (only from someone in that group)."""
    return await rounds.record_checkin(ctx, value)


@action(STAY_ACTION)
async def stay(ctx: Context, value: str) -> Reply:
    """Keep someone in pairing after they were asked."""
    found = await _joined(ctx)
    found.ignored_checkins = 0
    ctx.session.add(found)
    return Reply.say("Great, you stay in. See you next round!")


@action(LEAVE_ACTION)
async def leave_button(ctx: Context, value: str) -> Reply:
    """Leave pairing from the "still in?" question."""
    return await leave(ctx)


@on_timer(rounds.ROUND_TIMER)
async def scheduled_round(ctx: Context, timer: Timer) -> None:
    """Run the round that fell due (once), then arm the next one."""
    await rounds.scheduled_round(ctx, timer)


@on_timer(rounds.CHECKIN_TIMER)
async def checkins(ctx: Context, timer: Timer) -> None:
    """Ask each group of a round "did you meet?"."""
    await rounds.send_checkins(ctx, timer)


@on_export("pairing")
async def export_pairing(ctx: Context, person: Member) -> dict[str, object]:
    """Return the member's pairing profile and the rounds they were in (not who avoided them)."""
    return await rounds.export_member(ctx, person)


@on_forget("pairing")
async def forget_pairing(ctx: Context, person: Member) -> dict[str, int]:
    """Delete the member's pairing profile, history and every do-not-pair entry naming them."""
    return await rounds.forget_member(ctx, person)
