"""Peer pairing, as chat transcripts: joining, schedules, rounds, intros, check-ins, stats."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.app import App
from bot.clock import Clock
from bot.store.pairing_models import PairGroup, PairGroupMember, PairRound
from bot.testing import Chat


async def join_all(chat, *names):
    for name in names:
        await chat.say("/pair join", as_=name)


async def groups_of_round(chat, round_number: int) -> list[set[str]]:
    """Return each group of the n-th round (1-based) as a set of member names."""
    async with chat.app.database.unit_of_work() as uow:
        rounds = (await uow.session.exec(select(PairRound).order_by(PairRound.id))).all()
        round_id = rounds[round_number - 1].id
        rows = await uow.session.exec(
            select(PairGroupMember.group_id, PairGroupMember.member_id)
            .join(PairGroup, PairGroup.id == PairGroupMember.group_id)
            .where(PairGroup.round_id == round_id)
        )
        from bot.store.models import Member

        names = {m.id: m.display_name for m in (await uow.session.exec(select(Member))).all()}
        groups: dict[int, set[str]] = {}
        for group_id, member_id in rows.all():
            groups.setdefault(group_id, set()).add(names[member_id])
    return list(groups.values())


async def advance_to_next_round(chat) -> None:
    """Move time to just after the armed round and let it run."""
    from bot.store.models import Timer

    async with chat.app.database.unit_of_work() as uow:
        timer = (
            await uow.session.exec(
                select(Timer).where(Timer.kind == "pair.round", Timer.fired_at.is_(None))
            )
        ).one()
    await chat.wait(timer.due_at - chat.app.clock.now() + timedelta(minutes=1))


def intros(chat) -> list:
    return [m for m in chat.platform.log if m.channel_id.startswith("dm:") and m.thread_id is None]


async def test_join_status_pause_resume_skip_leave(chat):
    joined = await chat.say("/pair join", as_="ada")
    assert "Welcome to pairing" in joined.plain()
    assert "once an admin sets a schedule" in joined.plain()
    assert "already in" in (await chat.say("/pair join", as_="ada")).plain()

    paused = await chat.say("/pair pause 2w", as_="ada")
    assert "Paused until" in paused.plain()
    assert "paused until" in (await chat.say("/pair status", as_="ada")).plain()
    await chat.say("/pair resume", as_="ada")
    assert "in for the next round" in (await chat.say("/pair status", as_="ada")).plain()
    await chat.say("/pair skip", as_="ada")
    assert "sitting out the next round" in (await chat.say("/pair status", as_="ada")).plain()
    await chat.say("/pair leave", as_="ada")
    assert "not in pairing" in (await chat.say("/pair status", as_="ada")).plain()


async def test_bad_hints_get_kind_messages_and_change_nothing(chat):
    await chat.say("/pair join", as_="ada")

    assert "isn't a time zone" in (await chat.say("/pair timezone Mars/Olympus", as_="ada")).plain()
    assert "like 09:00-17:00" in (await chat.say("/pair hours nine-five", as_="ada")).plain()
    assert "isn't a date" in (await chat.say("/pair pause someday", as_="ada")).plain()
    assert "already passed" in (await chat.say("/pair pause 2001-01-01", as_="ada")).plain()
    status = (await chat.say("/pair status", as_="ada")).plain()
    assert "Time zone: not set" in status
    assert "Working hours: not set" in status


async def test_only_admins_schedule_and_run_rounds(chat):
    for line in ("/pair schedule weekly monday 09:00 UTC", "/pair now", "/pair stats"):
        assert "Only admins" in (await chat.say(line, as_="ada")).plain()


async def test_scheduled_round_runs_at_its_time_with_intros_that_say_why(chat):
    await join_all(chat, "ada", "bob", "cy", "dee", "eve")
    await chat.say("/pair timezone Europe/Berlin", as_="ada")
    await chat.say("/pair hours 09:00-17:00", as_="ada")
    await chat.say("/pair channel #pairing", as_="admin")
    scheduled = await chat.say("/pair schedule weekly monday 09:00 UTC", as_="admin")
    assert "Rounds run weekly on Monday at 09:00 (UTC)" in scheduled.plain()

    await advance_to_next_round(chat)

    groups = await groups_of_round(chat, 1)
    assert sorted(len(g) for g in groups) == [2, 3]  # one trio for an odd count
    assert set().union(*groups) == {"ada", "bob", "cy", "dee", "eve"}  # nobody left out
    sent = intros(chat)
    assert len(sent) == 2
    text = sent[0].reply.plain()
    assert "Meet @" in text
    assert "Why you were matched" in text
    assert "first time" in text.lower()
    assert "A first question to try" in text


async def test_rounds_never_repeat_a_pair_while_a_new_partner_is_possible(chat):
    await join_all(chat, "ada", "bob", "cy", "dee")
    seen: set[frozenset[str]] = set()
    for round_number in (1, 2, 3):
        await chat.say("/pair now", as_="admin")
        for group in await groups_of_round(chat, round_number):
            pair = frozenset(group)
            assert pair not in seen, f"round {round_number} repeated {set(pair)}"
            seen.add(pair)
    assert len(seen) == 6  # every possible pair of four people, met once each


async def test_do_not_pair_is_respected_and_never_revealed(chat):
    await join_all(chat, "ada", "bob", "cy")
    said = await chat.say("/pair avoid add @bob", as_="ada")
    assert "nobody else will know" in said.plain()

    await chat.say("/pair now", as_="admin")

    for group in await groups_of_round(chat, 1):
        assert {"ada", "bob"} - group  # never both in one group
    for name in ("bob", "cy", "admin"):
        for line in ("/pair status", "/crowdmentor export"):
            reply = await chat.say(line, as_=name)
            assert "ada" not in reply.plain() or name == "admin"
            for file in reply.files:
                assert "ada" not in file.content
    assert "rather not be paired with: 1" in (await chat.say("/pair status", as_="ada")).plain()


async def test_checkin_answers_feed_history_and_stats(chat):
    await join_all(chat, "ada", "bob")
    await chat.say("/pair now", as_="admin")
    await chat.wait("3d")

    [checkin] = [m for m in chat.platform.log if m.thread_id is not None]
    assert "did you manage to meet?" in checkin.reply.plain()
    met = next(b for b in checkin.reply.buttons if b.label == "We met")
    outsider = await chat.press(met.action, met.value, as_="eve")
    assert "Only people in this group" in outsider.plain()
    assert "Lovely" in (await chat.press(met.action, met.value, as_="ada")).plain()

    stats = (await chat.say("/pair stats", as_="admin")).plain()
    assert "Rounds: 1" in stats
    assert "Met rate: 100%" in stats
    assert "New connections: 1" in stats

    await chat.say("/pair now", as_="admin")  # only two people: the repeat is forced
    stats = (await chat.say("/pair stats", as_="admin")).plain()
    assert "Repeat rate: 50%" in stats


async def test_couldnt_meet_is_not_a_meeting(chat):
    await join_all(chat, "ada", "bob", "cy", "dee")
    await chat.say("/pair now", as_="admin")
    first = await groups_of_round(chat, 1)
    await chat.wait("3d")
    for checkin in [m for m in chat.platform.log if m.thread_id is not None]:
        couldnt = next(b for b in checkin.reply.buttons if b.label == "We couldn't")
        group_id = couldnt.value.split(":")[0]
        async with chat.app.database.unit_of_work() as uow:
            from bot.store.models import Member

            member_id = (
                await uow.session.exec(
                    select(PairGroupMember.member_id).where(
                        PairGroupMember.group_id == int(group_id)
                    )
                )
            ).first()
            name = (await uow.session.get(Member, member_id)).display_name
        await chat.press(couldnt.action, couldnt.value, as_=name)

    preview = (await chat.say("/pair preview", as_="admin")).plain()
    assert "Repeated pairs: 0" in preview
    assert len(first) == 2


async def test_preview_writes_nothing(chat):
    await join_all(chat, "ada", "bob", "cy")
    reply = await chat.say("/pair preview", as_="admin")

    assert "Preview (nothing was sent or saved)" in reply.plain()
    assert "3 people in, 1 group " in reply.plain()
    assert intros(chat) == []
    assert (await chat.say("/pair stats", as_="admin")).plain().count("Rounds: 0") == 1


async def test_a_round_runs_exactly_once_across_two_instances_and_a_restart(settings):
    clock = Clock()
    first, second = App(settings, clock=clock), App(settings, clock=clock)
    from bot.adapters.local import LocalPlatform

    platforms = [LocalPlatform(platform="memory"), LocalPlatform(platform="memory")]
    first.add_adapter(platforms[0])
    second.add_adapter(platforms[1])
    async with first.running(background=False), second.running(background=False):
        chat = Chat(first, platforms[0], chat_community())
        await join_all(chat, "ada", "bob", "cy", "dee")
        await chat.say("/pair schedule weekly monday 09:00 UTC", as_="admin")
        await advance_time_only(chat)
        fired = await asyncio.gather(first.scheduler.run_due(), second.scheduler.run_due())
        await asyncio.gather(first.delivery.drain(), second.delivery.drain())
    assert sum(fired) == 1
    assert (
        len(intros(chat)) + len([m for m in platforms[1].log if m.channel_id.startswith("dm:")])
        == 2
    )

    # Restart: the next round is armed again from the database and runs once at its time.
    restarted = App(settings, clock=clock)
    restarted.add_adapter(LocalPlatform(platform="memory"))
    async with restarted.running(background=False):
        jobs = {job.id for job in restarted.scheduler._aps.get_jobs()}
        assert any(job.startswith("timer:") for job in jobs)
        clock.advance(timedelta(days=7))
        await restarted.scheduler.run_due()
        await restarted.scheduler.run_due()
        async with restarted.database.unit_of_work() as uow:
            rounds = (await uow.session.exec(select(PairRound))).all()
    assert len(rounds) == 2
    assert all(r.scheduled_for.weekday() == 0 and r.scheduled_for.hour == 9 for r in rounds)


async def advance_time_only(chat) -> None:
    from bot.store.models import Timer

    async with chat.app.database.unit_of_work() as uow:
        timer = (await uow.session.exec(select(Timer).where(Timer.kind == "pair.round"))).one()
    chat.app.clock.advance(timer.due_at - chat.app.clock.now() + timedelta(minutes=1))


def chat_community():
    from bot.events import Community

    return Community("memory", "T1", "Test community")


async def test_missed_round_runs_when_back_within_grace_and_is_skipped_after(chat):
    await join_all(chat, "ada", "bob")
    now = chat.app.clock.now()
    await chat.say("/pair schedule weekly monday 09:00 UTC", as_="admin")
    monday = now + timedelta(days=(0 - now.weekday()) % 7 or 7)
    due = datetime.combine(monday.date(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    if due <= now:
        due += timedelta(days=7)

    chat.app.clock.advance(due - now + timedelta(hours=6))  # down at 09:00, back at 15:00
    await chat.wait("1m")
    assert len(await groups_of_round(chat, 1)) == 1

    chat.app.clock.advance(timedelta(days=7, hours=20))  # next one missed by 20 h: skipped
    await chat.wait("1m")
    async with chat.app.database.unit_of_work() as uow:
        assert len((await uow.session.exec(select(PairRound))).all()) == 1


async def test_people_who_ignore_three_checkins_are_asked_whether_to_stay(chat):
    await join_all(chat, "ada", "bob")
    for _ in range(4):
        await chat.say("/pair now", as_="admin")
        await chat.wait("3d")

    asked = [m for m in chat.platform.log if "haven't answered the last few" in m.reply.plain()]
    assert {m.channel_id for m in asked} == {"dm:ada", "dm:bob"}
    stay = next(b for b in asked[0].reply.buttons if b.action == "pair.stay")
    name = asked[0].channel_id.removeprefix("dm:")
    assert "you stay in" in (await chat.press(stay.action, stay.value, as_=name)).plain()


async def test_forget_removes_pairing_data_and_lists_that_name_the_member(chat):
    await join_all(chat, "ada", "bob", "cy")
    await chat.say("/pair avoid add @ada", as_="bob")
    await chat.say("/pair now", as_="admin")

    confirm = await chat.say("/crowdmentor forget", as_="ada")
    done = await chat.press("privacy.forget", confirm.buttons[0].value, as_="ada")

    assert "pairing profile" in done.plain()
    assert "rather not be paired with: 0" in (await chat.say("/pair status", as_="bob")).plain()
    assert "not in pairing" in (await chat.say("/pair status", as_="ada")).plain()


async def test_shared_ask_me_about_topics_are_a_reason_to_match(chat):
    await join_all(chat, "ada", "bob", "cy", "dee")
    await chat.say("/askme add rust", as_="ada")
    await chat.say("/askme add rust", as_="cy")

    await chat.say("/pair now", as_="admin")

    groups = await groups_of_round(chat, 1)
    assert {"ada", "cy"} in groups
    [intro] = [m for m in intros(chat) if "@ada" in m.reply.plain()]
    assert "rust" in intro.reply.plain()
