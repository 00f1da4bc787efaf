"""`/askme` and profiles, as chat transcripts: tags, notes, pause, limit, bad input, freshness."""

from sqlmodel import func, select

from bot.store.tag_models import MemberTag


async def tag_count(chat) -> int:
    async with chat.app.database.unit_of_work() as uow:
        return (await uow.session.exec(select(func.count()).select_from(MemberTag))).one()


def dms(chat, name: str) -> list:
    return [m for m in chat.platform.log if m.channel_id == f"dm:{name}"]


async def test_add_list_remove_with_notes_and_normalised_topics(chat):
    added = await chat.say("/askme add Python, Machine_Learning  Happy to review code", as_="ada")
    assert "#python and #machine-learning" in added.plain()
    assert "Your note: Happy to review code" in added.plain()
    assert "at most 3 times a week" in added.plain()

    listing = (await chat.say("/askme list", as_="ada")).plain()
    assert "#machine-learning: Happy to review code" in listing
    assert "#python: Happy to review code" in listing
    assert "You are available" in listing

    # Adding again refreshes the note instead of duplicating the tag.
    await chat.say("/askme add python Mostly asyncio these days", as_="ada")
    assert await tag_count(chat) == 2
    listing = (await chat.say("/askme list", as_="ada")).plain()
    assert "#python: Mostly asyncio these days" in listing

    removed = await chat.say("/askme remove PYTHON", as_="ada")
    assert "Removed #python" in removed.plain()
    assert "#python" not in (await chat.say("/askme list", as_="ada")).plain()
    missing = await chat.say("/askme remove rust", as_="ada")
    assert "aren't tagged with #rust" in missing.plain()


async def test_quoted_multi_word_topics_and_plurals_fold_to_the_existing_spelling(chat):
    await chat.say('/askme add "career change", interview', as_="ada")
    added = await chat.say("/askme add interviews, Career-Change", as_="bob")

    assert "#interview and #career-change" in added.plain()
    listing = (await chat.say("/crowdmentor topics", as_="cy")).plain()
    assert "#career-change 2" in listing
    assert "#interview 2" in listing
    assert "interviews" not in listing


async def test_bad_topics_get_clear_messages_and_nothing_is_half_saved(chat):
    long = "x" * 500
    replies = [
        await chat.say(f"/askme add python, {long}", as_="ada"),
        await chat.say("/askme add python, !!!", as_="ada"),
        await chat.say('/askme add python, ""', as_="ada"),
        await chat.say("/askme add " + ", ".join(f"t{i}" for i in range(200)), as_="ada"),
        await chat.say("/askme add python " + "n" * 300, as_="ada"),
    ]
    texts = [r.plain() for r in replies]
    assert "at most 40 characters (that one has 500)" in texts[0]
    assert "has no letters or digits" in texts[1]
    assert "That topic is empty" in texts[2]
    assert "That's 200 topics at once" in texts[3]
    assert "Notes are at most 200 characters" in texts[4]
    assert all("Nothing was saved" in t for t in texts if "empty" not in t)
    assert await tag_count(chat) == 0


async def test_member_cannot_hold_more_than_thirty_topics(chat):
    for start in (0, 10, 20):
        await chat.say("/askme add " + ", ".join(f"t{i}" for i in range(start, start + 10)))
    refused = await chat.say("/askme add one-more", as_="ada")
    assert "limit is 30" in refused.plain()
    assert await tag_count(chat) == 30


async def test_mass_mentions_in_notes_never_ping(chat):
    await chat.say("/askme add python @everyone ask me <!channel> and @here", as_="ada")
    who = await chat.say("/whoknows python", as_="bob")

    line = who.sections[0].body
    notes = [p for p in line.parts if isinstance(p, str) and "ask me" in p]
    assert notes, line
    assert "@everyone" not in notes[0]
    assert "<!channel>" not in notes[0]
    assert "@here" not in notes[0]
    assert "ask me" in notes[0]


async def test_pause_resume_and_limit(chat):
    await chat.say("/askme add python", as_="ada")
    paused = await chat.say("/askme pause 2w", as_="ada")
    assert "Paused until" in paused.plain()
    assert "paused until" in (await chat.say("/askme list", as_="ada")).plain()
    assert "paused or has had all" in (await chat.say("/whoknows python", as_="bob")).plain()

    await chat.say("/askme resume", as_="ada")
    assert "@ada" in (await chat.say("/whoknows python", as_="bob")).plain()

    assert "at most once a week" in (await chat.say("/askme limit 1", as_="ada")).plain()
    assert "Limit: 1 asks a week" in (await chat.say("/askme list", as_="ada")).plain()
    assert "at most 50" in (await chat.say("/askme limit 500", as_="ada")).plain()
    assert "isn't a date" in (await chat.say("/askme pause someday", as_="ada")).plain()
    assert "already passed" in (await chat.say("/askme pause 2001-01-01", as_="ada")).plain()


async def test_profile_shows_tags_to_others_and_pause_and_limit_to_yourself(chat):
    await chat.say("/askme add python, go Ask me about asyncio", as_="ada")
    await chat.say("/askme limit 2", as_="ada")

    theirs = (await chat.say("/crowdmentor profile @ada", as_="bob")).plain()
    assert "#python: Ask me about asyncio" in theirs
    assert "Limit" not in theirs
    assert "/coffee @ada" in theirs
    mine = (await chat.say("/crowdmentor profile", as_="ada")).plain()
    assert "#go: Ask me about asyncio" in mine
    assert "Limit: 2 asks a week" in mine
    assert "I don't know" in (await chat.say("/crowdmentor profile @nobody", as_="ada")).plain()


async def test_tags_are_reconfirmed_and_unanswered_ones_go_dormant_until_kept(chat):
    await chat.say("/askme add python, go", as_="ada")
    await chat.say("/askme add rust", as_="bob")

    await chat.wait("183d")

    [ask_ada] = dms(chat, "ada")
    assert "Still happy to be asked about #go and #python?" in ask_ada.reply.plain()
    labels = [b.label for b in ask_ada.reply.buttons]
    assert labels == ["Keep #go", "Remove #go", "Keep #python", "Remove #python"]
    keep_go, remove_go, keep_python, _ = ask_ada.reply.buttons
    assert (
        "belongs to someone else"
        in (await chat.press(keep_go.action, keep_go.value, as_="bob")).plain()
    )
    assert "Kept #go" in (await chat.press(keep_go.action, keep_go.value, as_="ada")).plain()

    await chat.wait("15d")  # bob and ada's python never answered

    assert "paused or has had all" not in (await chat.say("/whoknows go", as_="cy")).plain()
    assert "@ada" in (await chat.say("/whoknows go", as_="cy")).plain()
    assert "Nobody has said" in (await chat.say("/whoknows python", as_="cy")).plain()
    assert "Nobody has said" in (await chat.say("/whoknows rust", as_="cy")).plain()
    assert "dormant" in (await chat.say("/askme list", as_="ada")).plain()
    assert "python" not in (await chat.say("/crowdmentor profile @ada", as_="cy")).plain()

    # Keeping later brings a dormant tag back.
    kept = await chat.press(keep_python.action, keep_python.value, as_="ada")
    assert "Kept #python" in kept.plain()
    assert "@ada" in (await chat.say("/whoknows python", as_="cy")).plain()
    removed = await chat.press(remove_go.action, remove_go.value, as_="ada")
    assert "Removed #go" in removed.plain()
    assert "Nobody has said" in (await chat.say("/whoknows go", as_="cy")).plain()
