"""Two communities with the same people: nothing done in one can read or touch the other."""

from __future__ import annotations

import time

from sqlmodel import select

from bot.store.models import Question
from bot.testing import Chat
from tests.reliability._community import PEOPLE, populate, rows_of, tampered_values
from tests.reliability._snapshot import differences, snapshot

# Every command, with arguments, as a member of community B would type it.
EVERY_COMMAND = (
    "/ask How do I test a beta service? #python",
    "/ask",
    "/askme add python",
    "/askme remove rust",
    "/askme list",
    "/askme pause 2d",
    "/askme resume",
    "/askme limit 3",
    "/crowdmentor profile",
    "/crowdmentor profile @ada",
    "/coffee @ada python hello",
    "/crowdmentor help",
    "/pair join",
    "/pair skip",
    "/pair pause 1w",
    "/pair resume",
    "/pair status",
    "/pair timezone Europe/Berlin",
    "/pair hours 9-17",
    "/pair stage junior",
    "/pair avoid add @bob",
    "/pair avoid remove @bob",
    "/pair schedule weekly monday 09:00 UTC",
    "/pair channel #general",
    "/pair preview",
    "/pair now",
    "/pair stats",
    "/pair leave",
    "/crowdmentor export",
    "/crowdmentor forget",
    "/crowdmentor questions",
    "/crowdmentor questions all",
    "/crowdmentor questions mine",
    "/crowdmentor questions search python",
    "/crowdmentor settings show",
    "/crowdmentor settings ask-channel #general",
    "/crowdmentor settings anonymous on",
    "/crowdmentor settings nudge-hours 12",
    "/crowdmentor settings close-days 3",
    "/crowdmentor settings moderator add @bob",
    "/crowdmentor settings moderator remove @mod",
    "/crowdmentor settings admin add @cy",
    "/crowdmentor settings admin remove @cy",
    "/crowdmentor topics",
    "/crowdmentor settings topics-alias js javascript",
    "/crowdmentor settings topics-merge rust python",
    "/whoknows python",
    "/whoknows rust",
)


async def _everything_from(beta: Chat, alpha_rows_values: list[str]) -> tuple[list[str], int]:
    """Run every command and press every button in `beta`; return what beta saw and the count."""
    seen: list[str] = []
    count = 0
    for person in ("ada", "admin"):
        for line in EVERY_COMMAND:
            seen.append((await beta.say(line, as_=person)).plain())
            count += 1
        for action in sorted(beta.app.registry.actions):
            for value in alpha_rows_values:
                seen.append((await beta.press(action, value, as_=person)).plain())
                count += 1
    submitted = await beta.submit("ask", {"question": "How does beta handle forms? #python"})
    seen.append(submitted.plain())
    return seen, count + 1


async def test_community_b_cannot_touch_community_a_with_the_same_people(chat: Chat) -> None:
    alpha, beta = chat, chat.elsewhere("T2", "Beta")
    await populate(alpha, "alpha")
    await populate(beta, "beta")
    before = await snapshot(alpha.app.database, alpha.community.platform, "T1")
    values = tampered_values(await rows_of(alpha))

    started = time.monotonic()
    seen, tried = await _everything_from(beta, values)
    # Replies in "q1" of community B count for B's question #1 only, though A has a "q1" too.
    await beta.reply_in("q1", as_="mod")
    elapsed = time.monotonic() - started
    after = await snapshot(alpha.app.database, alpha.community.platform, "T1")
    async with chat.app.database.unit_of_work() as uow:
        questions = (await uow.session.exec(select(Question).order_by(Question.id))).all()

    assert differences(before, after) == {}
    assert [text for text in seen if "alpha" in text] == []  # B never sees A's data
    assert [text for text in seen if "went wrong" in text] == []
    by_community = {(q.community_id, q.number): q.reply_count for q in questions}
    alpha_q1, beta_q1 = sorted(k for k in by_community if k[1] == 1)
    assert by_community[alpha_q1] == 2
    assert by_community[beta_q1] == 3
    assert len(values) > 20
    assert tried > 500
    print(f"isolation: {tried} commands and presses, {len(values)} tampered values, {elapsed:.1f}s")


async def test_thread_replies_in_a_look_alike_thread_stay_in_their_community(chat: Chat) -> None:
    alpha, beta = chat, chat.elsewhere("T2", "Beta")
    await alpha.say("/ask How do I review code in the alpha team? #review", as_="ada")
    await beta.say("/ask How do I review code in the beta team? #review", as_="ada")
    before = await snapshot(alpha.app.database, alpha.community.platform, "T1")

    for person in PEOPLE:
        await beta.reply_in("q1", as_=person)
    after = await snapshot(alpha.app.database, alpha.community.platform, "T1")

    assert differences(before, after) == {}
    listing = (await beta.say("/crowdmentor questions all", as_="ada")).plain()
    assert "4 replies" in listing  # everyone but the asker, in B only
    assert "alpha" not in listing
