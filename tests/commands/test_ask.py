"""The advice-thread story, as chat transcripts."""

from bot.replies import Visibility


async def test_ask_posts_question_with_topics_and_tells_asker(chat):
    reply = await chat.say("/ask How did you prepare for senior interviews? #interviews #career", as_="ada")

    assert "Posted as question #1" in reply.plain()
    assert reply.visibility is Visibility.ONLY_YOU
    [post] = chat.posts("general")
    assert "Question #1" in post.reply.plain()
    assert "@ada" in post.reply.plain()
    assert "#career #interviews" in post.reply.plain()
    assert post.opened_thread == "q1"
    assert [b.action for b in post.reply.buttons] == ["question.resolve"]
