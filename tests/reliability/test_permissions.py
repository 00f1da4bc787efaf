"""Who may do what: resolving is for the asker or a moderator; settings and rounds for admins."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from bot.commands._question_post import HELPED_ACTION, RESOLVE_ACTION
from bot.commands.ask import DISCARD_ACTION, POST_ACTION
from bot.store.models import Question, QuestionStatus
from bot.testing import Chat
from tests.adapters._discord_fakes import ADA, ADMIN, BOB, Person, discord_world
from tests.adapters._slack_fakes import slack_harness
from tests.reliability._community import populate
from tests.reliability._snapshot import differences, snapshot

# Every admin-only command, with arguments that would change something.
ADMIN_LINES = (
    "/pair schedule weekly monday 09:00 UTC",
    "/pair channel #general",
    "/pair preview",
    "/pair now",
    "/pair stats",
    "/crowdmentor settings show",
    "/crowdmentor settings ask-channel #general",
    "/crowdmentor settings anonymous off",
    "/crowdmentor settings nudge-hours 12",
    "/crowdmentor settings close-days 3",
    "/crowdmentor settings moderator add @bob",
    "/crowdmentor settings moderator remove @mod",
    "/crowdmentor settings admin add @bob",
    "/crowdmentor settings admin remove @admin",
    "/crowdmentor settings topics-alias js javascript",
    "/crowdmentor settings topics-merge rust python",
)
ONLY_ADMINS = "Only admins can do that here."
ONLY_ASKER = "Only the person who asked, or a moderator"


async def _questions(chat: Chat) -> list[Question]:
    async with chat.app.database.unit_of_work() as uow:
        return list((await uow.session.exec(select(Question).order_by(Question.id))).all())


@pytest.mark.parametrize("person", ["ada", "mod"])
async def test_only_admins_change_settings_topics_and_rounds(chat: Chat, person: str) -> None:
    await populate(chat, "alpha")
    before = await snapshot(chat.app.database, chat.community.platform, "T1")

    answers = {line: (await chat.say(line, as_=person)).plain() for line in ADMIN_LINES}
    after = await snapshot(chat.app.database, chat.community.platform, "T1")
    allowed = {line: (await chat.say(line, as_="admin")).plain() for line in ADMIN_LINES}

    assert {line: text for line, text in answers.items() if text != ONLY_ADMINS} == {}
    changed = differences(before, after)
    # Running a refused command only refreshes the person's "last seen"; nothing else changes.
    assert set(changed) <= {"members"}
    assert all(len(rows["new"]) == 1 for rows in changed.values())
    assert [line for line, text in allowed.items() if text == ONLY_ADMINS] == []


async def test_only_the_asker_or_a_moderator_resolves_credits_posts_or_discards(chat: Chat) -> None:
    await populate(chat, "alpha")
    first, second = await _questions(chat)  # asked by cy and dee; ada and bob replied to #1
    refused = []
    for action in (RESOLVE_ACTION, HELPED_ACTION, POST_ACTION, DISCARD_ACTION):
        for person in ("ada", "bob"):
            refused.append((await chat.press(action, f"{first.id}:0", as_=person)).plain())

    by_moderator = (await chat.press(RESOLVE_ACTION, str(first.id), as_="mod")).plain()
    by_asker = (await chat.press(RESOLVE_ACTION, str(second.id), as_="dee")).plain()
    first_after, second_after = await _questions(chat)

    assert all(text.startswith(ONLY_ASKER) for text in refused), refused
    assert "resolved" in by_moderator
    assert "resolved" in by_asker
    assert first_after.status == second_after.status == QuestionStatus.RESOLVED


# ---- Slack ----------------------------------------------------------------------------------


async def test_slack_members_and_moderators_cannot_use_admin_commands(settings) -> None:
    async with slack_harness(settings) as slack:
        api, workspace = slack.api, slack.workspace
        api.users["U0ADM"] = {"id": "U0ADM", "name": "adm", "is_admin": True, "profile": {}}
        for user in ("U0ADA", "U0MOD", "U0ADM"):
            await workspace.command("/crowdmentor", "help", user=user)
        await workspace.command("/crowdmentor", "settings moderator add <@U0MOD>", user="U0ADM")
        await workspace.command("/ask", "How do I plan a migration to Postgres?", user="U0ADA")
        await slack.settle("command", 5)
        await slack.deliver()
        [question] = await _slack_questions(slack)

        heard: dict[tuple[str, str], str] = {}
        for user in ("U0ADA", "U0MOD"):
            for line in ADMIN_LINES:
                command, _, text = line.partition(" ")
                before = len(api.responses)
                await workspace.command(
                    command, text.replace("#general", "<#C0GENERAL>"), user=user
                )
                await api.wait_for(lambda before=before: len(api.responses) > before)
                heard[(user, line)] = api.responses[-1]["text"]
        before = len(api.responses)
        await workspace.press(RESOLVE_ACTION, str(question.id), user="U0BOB")
        await api.wait_for(lambda: len(api.responses) > before)
        by_member = api.responses[-1]["text"]
        await workspace.press(RESOLVE_ACTION, str(question.id), user="U0MOD")
        await api.wait_for(lambda: len(api.responses) > before + 1)
        by_moderator = api.responses[-1]["text"]
        [resolved] = await _slack_questions(slack)

    assert {k: v for k, v in heard.items() if v != ONLY_ADMINS} == {}
    assert by_member.startswith(ONLY_ASKER)
    assert "resolved" in by_moderator
    assert resolved.status == QuestionStatus.RESOLVED


async def _slack_questions(slack: Any) -> list[Question]:
    async with slack.app.database.unit_of_work() as uow:
        return list((await uow.session.exec(select(Question))).all())


# ---- Discord --------------------------------------------------------------------------------

CY = Person(1_100_000_000_000_000_105, "cy")

# The admin commands as Discord slash commands, with typed option values.
DISCORD_ADMIN = (
    ("/pair schedule", {"cadence": "weekly", "weekday": "monday", "time": "09:00", "zone": "UTC"}),
    ("/pair preview", {}),
    ("/pair now", {}),
    ("/pair stats", {}),
    ("/crowdmentor settings show", {}),
    ("/crowdmentor settings anonymous", {"allowed": "off"}),
    ("/crowdmentor settings nudge-hours", {"hours": 12}),
    ("/crowdmentor settings close-days", {"days": 3}),
    ("/crowdmentor settings moderator", {"change": "add", "person": CY}),
    ("/crowdmentor settings admin", {"change": "add", "person": CY}),
    ("/crowdmentor settings topics-alias", {"alias": "js", "topic": "javascript"}),
    ("/crowdmentor settings topics-merge", {"source": "rust", "into": "python"}),
)


def _said(world: Any, payload: dict[str, Any]) -> str:
    texts = []
    for request in world.fake.answers(payload):
        body = request.json
        texts.append(str((body.get("data") or body).get("content") or ""))
    return " ".join(texts)


async def test_discord_members_and_moderators_cannot_use_admin_commands(settings) -> None:
    async with discord_world(settings) as world:
        await world.slash("/crowdmentor help", as_=CY)
        await world.slash("/crowdmentor settings moderator", as_=ADMIN, change="add", person=BOB)
        await world.slash("/ask", question="How do I plan a migration to Postgres?", as_=ADA)
        await world.deliver()
        [post] = [m for m in world.fake.in_channel(world.general) if m.get("components")]
        resolve = post["components"][0]["components"][0]["custom_id"]

        heard = {}
        for person in (CY, BOB):
            for line, values in DISCORD_ADMIN:
                payload = await world.slash(line, as_=person, **values)
                heard[(person.name, line)] = _said(world, payload)
        by_member = _said(world, await world.press(post, resolve, as_=CY))
        by_moderator = _said(world, await world.press(post, resolve, as_=BOB))
        async with world.app.database.unit_of_work() as uow:
            [question] = (await uow.session.exec(select(Question))).all()

    assert {k: v for k, v in heard.items() if ONLY_ADMINS not in v} == {}
    assert ONLY_ASKER in by_member
    assert "resolved" in by_moderator
    assert question.status == QuestionStatus.RESOLVED


# ---- tampered button values -----------------------------------------------------------------

TAMPERED = (
    "",
    "0",
    "-1",
    "-0",
    "+1",
    " 1",
    "1 ",
    "1_0",
    "1.0",
    "1e3",
    "0x1",
    "٣",  # Arabic-Indic three: int() reads it as 3
    "１",  # fullwidth one
    "²",
    str(2**31),
    str(2**63),
    "9" * 400,
    "abc",
    "1:2:3",
    ":",
    "1:" + "9" * 30,
    "1:٣",
    "1:-1",
    "<!channel>",
    "@everyone",
    "\x00",
    "1\x00",
    "x" * 5000,
)


async def test_tampered_button_values_are_refused_kindly_and_change_nothing(chat: Chat) -> None:
    await populate(chat, "alpha")
    before = await snapshot(chat.app.database, chat.community.platform, "T1")

    answers = []
    for person in ("bob", "mod", "admin"):
        for action in sorted(chat.app.registry.actions):
            for value in TAMPERED:
                if person != "bob" and value.replace("\x00", "").partition(":")[0] == "1":
                    continue  # question #1 itself (NUL is dropped), which a moderator may resolve
                said = (await chat.press(action, value, as_=person)).plain()
                answers.append((action, value, said))
    after = await snapshot(chat.app.database, chat.community.platform, "T1")

    unkind = [a for a in answers if "went wrong" in a[2] or not a[2]]
    assert unkind == []
    changed = differences(before, after)
    # Only "last seen" moves, and the leave/stay buttons (which carry no row id) may act.
    assert set(changed) <= {"members", "pair_members", "timers"}, changed
    print(f"tampered: {len(answers)} presses")
