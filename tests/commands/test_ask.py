"""The advice-thread story, as chat transcripts through the in-memory platform."""

from sqlmodel import select

from bot.limits import QUESTION_MAX_CHARS
from bot.replies import Visibility
from bot.store.models import OutboxMessage, Question, QuestionStatus

SENIOR = "How did you prepare for senior engineer interviews? #interviews #career"


async def questions(chat) -> list[Question]:
    async with chat.app.database.unit_of_work() as uow:
        return list((await uow.session.exec(select(Question).order_by(Question.id))).all())


async def test_ask_posts_question_with_topics_and_tells_asker(chat):
    reply = await chat.say(f"/ask {SENIOR}", as_="ada")

    assert "Posted as question #1" in reply.plain()
    assert reply.visibility is Visibility.ONLY_YOU
    [post] = chat.posts("general")
    text = post.reply.plain()
    assert "Question #1" in text
    assert "@ada" in text
    assert "Topics: #career #interviews" in text
    assert "#interviews #career" not in text.split("Topics")[0]  # trailing tags became topics
    assert post.opened_thread == "q1"
    assert [b.action for b in post.reply.buttons] == ["question.resolve"]


async def test_empty_ask_gives_guidance_and_a_form_never_an_error(chat):
    reply = await chat.say("/ask")

    assert "/ask How did you prepare" in reply.plain()
    assert reply.form is not None
    assert [f.name for f in reply.form.fields] == ["question", "context", "topics", "anonymous"]
    assert chat.posts() == []


async def test_form_posts_question_with_context_and_topics(chat):
    reply = await chat.submit(
        "ask",
        {
            "question": "How do I get better at code review?",
            "context": "I'm a junior and my reviews are shallow.",
            "topics": "Code Review, mentoring",
            "anonymous": False,
        },
        as_="ada",
    )

    assert "Posted as question #1" in reply.plain()
    [post] = chat.posts()
    assert "my reviews are shallow" in post.reply.plain()
    assert "#code-review #mentoring" in post.reply.plain()


async def test_anonymous_post_hides_asker_but_moderators_can_see(chat):
    await chat.say("/crowdmentor settings moderator add @mo", as_="admin")
    reply = await chat.say(
        "/ask --anonymous How do I ask my manager for a raise? #career", as_="ada"
    )

    assert "Posted anonymously" in reply.plain()
    [post] = chat.posts()
    assert "asked anonymously" in post.reply.plain()
    assert "ada" not in post.reply.plain()
    member_view = await chat.say("/crowdmentor questions", as_="bob")
    assert "ada" not in member_view.plain()
    moderator_view = await chat.say("/crowdmentor questions", as_="mo")
    assert "asked anonymously by @ada" in moderator_view.plain()


async def test_anonymous_refused_when_community_forbids_it_and_text_is_given_back(chat):
    await chat.say("/crowdmentor settings anonymous off", as_="admin")
    reply = await chat.say("/ask --anonymous Is it normal to feel lost in a new team?", as_="ada")

    assert "doesn't allow anonymous questions" in reply.plain()
    assert "Is it normal to feel lost in a new team?" in reply.plain()
    assert chat.posts() == []
    assert await questions(chat) == []


async def test_too_long_question_says_the_limit_and_gives_text_back(chat):
    long_text = "How should I structure a large codebase? " + "details " * 400

    reply = await chat.say(f"/ask {long_text}", as_="ada")

    assert f"{QUESTION_MAX_CHARS:,}" in reply.plain()
    assert "2,000" in reply.plain()
    assert long_text.strip() in reply.plain()
    assert await questions(chat) == []
    assert chat.posts() == []


async def test_mass_mentions_in_question_never_ping(chat):
    await chat.say("/ask @everyone <!channel> @here how do you all plan your week?", as_="ada")

    [post] = chat.posts()
    body = post.reply.plain()
    assert "@everyone" not in body
    assert "<!channel>" not in body
    assert "@here" not in body
    assert "plan your week" in body


async def test_similar_questions_are_shown_before_posting(chat):
    await chat.say(f"/ask {SENIOR}", as_="ada")

    reply = await chat.say(
        "/ask What helped you prepare for senior interviews as an engineer?", as_="bob"
    )

    assert "earlier questions look close to yours" in reply.plain()
    assert "#1" in reply.plain()
    assert [b.action for b in reply.buttons] == ["question.post", "question.discard"]
    assert len(chat.posts()) == 1  # held, not posted

    posted = await chat.press("question.post", reply.buttons[0].value, as_="bob")
    assert "Posted as question #2" in posted.plain()
    assert len(chat.posts()) == 2


async def test_discarding_a_held_question_posts_and_keeps_nothing(chat):
    await chat.say(f"/ask {SENIOR}", as_="ada")
    reply = await chat.say("/ask How to prepare for senior engineer interviews?", as_="bob")

    done = await chat.press("question.discard", reply.buttons[1].value, as_="bob")

    assert "Nothing was posted" in done.plain()
    assert len(await questions(chat)) == 1
    assert len(chat.posts()) == 1


async def test_someone_else_cannot_post_or_discard_your_held_question(chat):
    await chat.say(f"/ask {SENIOR}", as_="ada")
    reply = await chat.say("/ask How to prepare for senior engineer interviews?", as_="bob")

    denied = await chat.press("question.post", reply.buttons[0].value, as_="eve")

    assert "Only the person who asked" in denied.plain()
    assert len(chat.posts()) == 1


async def test_held_question_expires_and_its_text_is_dropped(chat):
    await chat.say(f"/ask {SENIOR}", as_="ada")
    await chat.say("/ask How to prepare for senior engineer interviews?", as_="bob")

    await chat.wait("25h")

    assert [q.status for q in await questions(chat)] == [QuestionStatus.OPEN]


async def test_vague_question_gets_a_kind_hint_and_is_still_posted(chat):
    reply = await chat.say("/ask can you be my mentor?", as_="ada")

    assert "Posted as question #1" in reply.plain()
    assert "specific questions" in reply.plain()
    assert len(chat.posts()) == 1


async def test_replies_are_counted_once_and_credited(chat):
    await chat.say(f"/ask {SENIOR}", as_="ada")

    message_id = await chat.reply_in("q1", as_="bob")
    await chat.reply_in("q1", as_="bob", message_id=message_id)  # the platform retried
    await chat.reply_in("q1", as_="cy")
    await chat.reply_in("q1", as_="ada")  # the asker's own reply is not an answer

    [question] = await questions(chat)
    assert question.reply_count == 2
    listing = await chat.say("/crowdmentor questions", as_="ada")
    assert "2 replies" in listing.plain()


async def test_asker_resolves_and_credits_the_reply_that_helped(chat):
    await chat.say(f"/ask {SENIOR}", as_="ada")
    await chat.reply_in("q1", as_="bob")
    await chat.reply_in("q1", as_="cy")
    [question] = await questions(chat)

    resolved = await chat.press("question.resolve", str(question.id), as_="ada")
    assert "Whose reply helped most?" in resolved.plain()
    labels = [b.label for b in resolved.buttons]
    assert labels[:2] == ["bob", "cy"]
    assert labels[-1] == "Skip"

    thanked = await chat.press("question.helped", resolved.buttons[1].value, as_="ada")
    assert "Thanked @cy" in thanked.plain()
    [post] = chat.posts()
    assert "Resolved" in post.reply.plain()
    assert "@cy's answer helped" in post.reply.plain()
    assert post.reply.buttons == ()  # no resolve button on a resolved question
    assert any("@cy's answer helped most" in m.reply.plain() for m in chat.thread("q1"))


async def test_only_asker_or_moderator_can_resolve(chat):
    await chat.say(f"/ask {SENIOR}", as_="ada")
    [question] = await questions(chat)

    denied = await chat.press("question.resolve", str(question.id), as_="eve")
    assert "Only the person who asked, or a moderator" in denied.plain()
    assert (await questions(chat))[0].status == QuestionStatus.OPEN

    await chat.say("/crowdmentor settings moderator add @mo", as_="admin")
    allowed = await chat.press("question.resolve", str(question.id), as_="mo")
    assert "resolved" in allowed.plain()
    assert (await questions(chat))[0].status == QuestionStatus.RESOLVED


async def test_forged_helped_button_for_someone_who_never_replied_changes_nothing(chat):
    await chat.say(f"/ask {SENIOR}", as_="ada")
    await chat.say("/crowdmentor help", as_="mallory")  # mallory exists but never replied
    [question] = await questions(chat)
    await chat.press("question.resolve", str(question.id), as_="ada")

    for value in (f"{question.id}:999", f"{question.id}:nonsense", "abc"):
        reply = await chat.press("question.helped", value, as_="ada")
        assert "Nothing was changed" in reply.plain()
    assert (await questions(chat))[0].helped_by_id is None


async def test_unanswered_question_is_nudged_once_after_the_configured_hours(chat):
    await chat.say(f"/ask {SENIOR}", as_="ada")

    await chat.wait("23h")
    assert chat.thread("q1") == []
    await chat.wait("2h")
    [nudge] = chat.thread("q1")
    assert "Still looking for an answer" in nudge.reply.plain()
    assert "#career #interviews" in nudge.reply.plain()
    assert "@ada" in nudge.reply.plain()
    await chat.wait("2h")
    assert len(chat.thread("q1")) == 1


async def test_answered_question_is_not_nudged(chat):
    await chat.say(f"/ask {SENIOR}", as_="ada")
    await chat.reply_in("q1", as_="bob")

    await chat.wait("25h")

    assert chat.thread("q1") == []


async def test_quiet_question_is_closed_politely_and_activity_postpones_it(chat):
    await chat.say(f"/ask {SENIOR}", as_="ada")
    await chat.wait("10d")
    await chat.reply_in("q1", as_="bob")  # keeps it alive for another 14 days

    await chat.wait("5d")  # 15 days after asking, 5 after the reply
    assert (await questions(chat))[0].status == QuestionStatus.OPEN

    await chat.wait("10d")
    [question] = await questions(chat)
    assert question.status == QuestionStatus.CLOSED
    assert "Closing this after 14 quiet days" in chat.thread("q1")[-1].reply.plain()
    assert "Closed" in chat.posts()[0].reply.plain()


async def test_ask_channel_setting_moves_posts(chat):
    await chat.say("/crowdmentor settings ask-channel #questions", as_="admin")

    reply = await chat.say(f"/ask {SENIOR}", as_="ada", channel="random")

    assert "in #questions" in reply.plain()
    assert chat.posts("random") == []
    assert len(chat.posts("questions")) == 1


async def test_members_cannot_change_settings(chat):
    reply = await chat.say("/crowdmentor settings ask-channel #questions", as_="ada")

    assert "Only admins" in reply.plain()
    await chat.say(f"/ask {SENIOR}", as_="ada")
    assert len(chat.posts("general")) == 1


async def test_questions_lists_open_mine_and_search(chat):
    await chat.say(f"/ask {SENIOR}", as_="ada")
    await chat.say("/ask What is a good first open source project for Rust? #rust", as_="bob")

    mine = await chat.say("/crowdmentor questions mine", as_="bob")
    assert "Rust" in mine.plain()
    assert "senior" not in mine.plain()
    found = await chat.say("/crowdmentor questions search rust open source", as_="ada")
    assert "#2" in found.plain()
    assert "#1" not in found.plain()
    empty = await chat.say("/crowdmentor questions mine", as_="cy")
    assert "none yet" in empty.plain()


async def test_communities_are_isolated(chat):
    other = chat.elsewhere("T2")
    await chat.say(f"/ask {SENIOR}", as_="ada")
    [question] = await questions(chat)

    listing = await other.say("/crowdmentor questions all", as_="ada")
    assert "none yet" in listing.plain()
    forged = await other.press("question.resolve", str(question.id), as_="admin")
    assert "can't find that question" in forged.plain()
    assert (await questions(chat))[0].status == QuestionStatus.OPEN
    first_there = await other.say("/ask A totally different thing about gardening?", as_="ada")
    assert "question #1" in first_there.plain()  # numbering is per community


async def test_question_post_and_outbox_row_are_written_together(chat):
    await chat.say(f"/ask {SENIOR}", as_="ada")

    async with chat.app.database.unit_of_work() as uow:
        rows = (await uow.session.exec(select(OutboxMessage))).all()
    [row] = [r for r in rows if r.key.endswith(":post")]
    assert row.status == "sent"
    [question] = await questions(chat)
    assert question.post_ref == row.platform_ref == "q1"
    assert question.thread_ref == "q1"
