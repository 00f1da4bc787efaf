"""`/coffee`: a specific, casual chat request; Accept opens a conversation, Not now is gentle."""

from bot.adapters.text_input import parse_command_line
from bot.events import Actor, Place
from bot.testing import Chat


def inbox(chat: Chat, *names: str) -> list:
    channel = "dm:" + ",".join(sorted(names))
    return [m for m in chat.platform.log if m.channel_id == channel]


async def test_accept_opens_a_conversation_for_the_two(chat):
    await chat.say("/askme add interviews", as_="ada")

    sent = await chat.say(
        "/coffee @ada interviews My first senior interview is in two weeks", as_="bob"
    )

    assert "Sent! I asked @ada" in sent.plain()
    [ask] = inbox(chat, "ada")
    assert "@bob would love 20 minutes of your time to talk about #interviews" in ask.reply.plain()
    assert "My first senior interview is in two weeks" in ask.reply.plain()
    accept, not_now = ask.reply.buttons
    assert (accept.label, not_now.label) == ("Accept", "Not now")

    assert (
        "Only the person who was asked"
        in (await chat.press(accept.action, accept.value, as_="bob")).plain()
    )
    accepted = await chat.press(accept.action, accept.value, as_="ada")
    assert "started a conversation for you two" in accepted.plain()
    [intro] = inbox(chat, "ada", "bob")
    assert intro.recipients == ("bob", "ada")
    assert "@bob, meet @ada: a coffee chat about #interviews" in intro.reply.plain()
    again = await chat.press(accept.action, accept.value, as_="ada")
    assert "already accepted" in again.plain()
    assert len(inbox(chat, "ada", "bob")) == 1


async def test_not_now_is_private_and_gentle_and_two_stop_further_requests(chat):
    await chat.say("/askme add python", as_="ada")
    await chat.say("/askme limit 10", as_="ada")

    for round_ in (1, 2):
        await chat.say("/coffee @ada python", as_="bob")
        ask = inbox(chat, "ada")[-1]
        said = await chat.press("coffee.not_now", ask.reply.buttons[1].value, as_="ada")
        assert "they'll only hear you're not available right now" in said.plain()
        told = inbox(chat, "bob")[-1].reply.plain()
        assert told.startswith("@ada isn't available right now.")
        assert "not now" not in told.lower()
        assert "declin" not in told.lower()
        assert len(inbox(chat, "bob")) == round_

    third = await chat.say("/coffee @ada python", as_="bob")
    assert "@ada isn't available right now" in third.plain()
    assert len(inbox(chat, "ada")) == 2  # nothing more was sent to ada
    # Someone else can still ask.
    assert "Sent!" in (await chat.say("/coffee @ada python", as_="cy")).plain()


async def test_requests_expire_after_a_week_and_tell_the_requester_kindly(chat):
    await chat.say("/askme add go", as_="ada")
    await chat.say("/coffee @ada go Could we talk about generics?", as_="bob")

    await chat.wait("7d1h")

    [lapsed] = inbox(chat, "bob")
    assert "lapsed after a week" in lapsed.reply.plain()
    assert "aren't available right now" in lapsed.reply.plain()
    ask = inbox(chat, "ada")[0]
    late = await chat.press("coffee.accept", ask.reply.buttons[0].value, as_="ada")
    assert "it has expired" in late.plain()


async def test_caps_are_shared_with_question_pings(chat):
    await chat.say("/askme add python", as_="ada")
    await chat.say("/askme limit 1", as_="ada")
    await chat.say("/ask How do you profile a slow asyncio app? #python", as_="eve")

    refused = await chat.say("/coffee @ada python", as_="bob")

    assert "had all the requests they take this week" in refused.plain()
    assert inbox(chat, "ada")[-1].reply.buttons == ()


async def test_kind_explanations_for_self_paused_unknown_untagged_and_bots(chat):
    await chat.say("/askme add python", as_="ada")
    await chat.say("/askme add go", as_="cy")
    await chat.say("/askme pause 2w", as_="cy")
    await chat.say("/crowdmentor profile", as_="dee")

    to_self = await chat.say("/coffee @ada python", as_="ada")
    to_paused = await chat.say("/coffee @cy go", as_="bob")
    to_unknown = await chat.say("/coffee @nobody python", as_="bob")
    to_untagged = await chat.say("/coffee @dee python", as_="bob")
    too_long = await chat.say("/coffee @ada python " + "x" * 600, as_="bob")
    bad_topic = await chat.say("/coffee @ada !!!", as_="bob")

    assert "That's you!" in to_self.plain()
    assert "taking a break from requests right now" in to_paused.plain()
    assert "they may have left, or it may be a bot" in to_unknown.plain()
    assert "hasn't said they're happy to be asked" in to_untagged.plain()
    assert "Keep the message to 500 characters" in too_long.plain()
    assert "no letters or digits" in bad_topic.plain()
    robot = Actor("bot1", "helper-bot", is_bot=True)
    invocation = parse_command_line("/coffee @ada python", robot, chat.community, Place("general"))
    from_bot = await chat.app.dispatcher.dispatch(invocation)
    assert "bots can't send them" in from_bot.plain()
    assert [m for m in chat.platform.log if m.channel_id.startswith("dm:")] == []


async def test_someone_who_left_cannot_be_asked(chat):
    await chat.say("/askme add python", as_="ada")
    confirm = await chat.say("/crowdmentor forget", as_="ada")
    await chat.press("privacy.forget", confirm.buttons[0].value, as_="ada")

    reply = await chat.say("/coffee @ada python", as_="bob")

    assert "they may have left" in reply.plain()


async def test_a_second_request_while_one_waits_is_refused(chat):
    await chat.say("/askme add python", as_="ada")
    await chat.say("/coffee @ada python", as_="bob")

    again = await chat.say("/coffee @ada python Still keen!", as_="bob")

    assert "still waiting for an answer" in again.plain()
    assert len(inbox(chat, "ada")) == 1
