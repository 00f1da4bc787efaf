"""The topics directory, admins' aliases and merges, and privacy for everything tags keep."""

import json

from sqlalchemy import text

from tests.commands.test_privacy import member_id, rows_pointing_at


async def test_directory_lists_topics_with_counts_largest_first(chat):
    assert "Nobody has tagged themselves yet" in (await chat.say("/crowdmentor topics")).plain()
    await chat.say("/askme add python, go", as_="ada")
    await chat.say("/askme add python", as_="bob")
    await chat.say("/askme add rust", as_="cy")

    listing = (await chat.say("/crowdmentor topics", as_="dee")).plain()

    assert listing.index("#python 2") < listing.index("#go 1") < listing.index("#rust 1")


async def test_only_admins_manage_topics(chat):
    reply = await chat.say("/crowdmentor settings topics-alias k8s kubernetes", as_="ada")
    assert "Only admins" in reply.plain()


async def test_alias_maps_new_and_existing_tags_to_the_topic(chat):
    await chat.say("/askme add kubernetes", as_="ada")
    await chat.say("/askme add k8s Helm mostly", as_="bob")

    aliased = await chat.say("/crowdmentor settings topics-alias K8s kubernetes", as_="admin")

    assert "#k8s now means #kubernetes everywhere here. 1 existing tag moved over." in (
        aliased.plain()
    )
    assert "@bob: Helm mostly" in (await chat.say("/whoknows k8s", as_="cy")).plain()
    added = await chat.say("/askme add k8s", as_="cy")
    assert "#kubernetes" in added.plain()
    listing = (await chat.say("/crowdmentor topics", as_="cy")).plain()
    assert "#kubernetes 3" in listing
    assert "#k8s → #kubernetes" in listing
    same = await chat.say("/crowdmentor settings topics-alias kubernetes k8s", as_="admin")
    assert "same topic" in same.plain()


async def test_merge_moves_tags_and_question_topics_without_duplicates(chat):
    await chat.say("/askme add golang", as_="ada")
    await chat.say("/askme add golang, go", as_="bob")
    await chat.say("/ask How do you handle errors idiomatically? #golang", as_="eve")

    merged = await chat.say("/crowdmentor settings topics-merge golang go", as_="admin")

    assert "Merged #golang into #go: 1 tag moved, and #golang now means #go." in merged.plain()
    listing = (await chat.say("/crowdmentor topics", as_="cy")).plain()
    assert "#go 2" in listing
    assert "#golang 1" not in listing
    async with chat.app.database.engine.connect() as connection:
        slugs = await connection.execute(
            text(
                "SELECT t.slug FROM question_topics q JOIN topics t ON t.id = q.topic_id "
                "ORDER BY t.slug"
            )
        )
        assert [row[0] for row in slugs] == ["go"]
        gone = await connection.execute(text("SELECT count(*) FROM topics WHERE slug = 'golang'"))
        assert gone.scalar_one() == 0
    missing = await chat.say("/crowdmentor settings topics-merge nothing go", as_="admin")
    assert "There's no #nothing here to merge" in missing.plain()


async def test_adding_a_misspelt_new_topic_suggests_the_known_one(chat):
    await chat.say("/askme add kubernetes", as_="ada")

    added = await chat.say("/askme add kubernets", as_="bob")

    assert "#kubernets is new here. Did you mean #kubernetes?" in added.plain()


async def test_export_and_forget_cover_every_tag_table(chat):
    await chat.say("/askme add python, go Ask me about asyncio", as_="ada")
    await chat.say("/askme limit 5", as_="ada")
    await chat.say("/askme add python", as_="bob")
    await chat.say("/ask How do you test asyncio code? #python", as_="ada")  # pings bob
    await chat.say("/coffee @bob python", as_="ada")
    await chat.say("/coffee @ada go Generics?", as_="bob")

    [file] = (await chat.say("/crowdmentor export", as_="ada")).files
    data = json.loads(file.content)["tags"]
    assert [t["topic"] for t in data["topics"]] == ["go", "python"]
    assert data["topics"][0]["note"] == "Ask me about asyncio"
    assert data["availability"]["weekly_limit"] == 5
    assert data["asks_you_caused"] == 2
    assert len(data["times_asked"]) == 1
    assert sorted(c["direction"] for c in data["coffee"]) == ["received", "sent"]

    ada = await member_id(chat, "ada")
    confirm = await chat.say("/crowdmentor forget", as_="ada")
    done = await chat.press("privacy.forget", confirm.buttons[0].value, as_="ada")

    assert "2 topic tags" in done.plain()
    assert "2 coffee requests" in done.plain()
    assert all(count == 0 for count in (await rows_pointing_at(chat, ada)).values())
    async with chat.app.database.engine.connect() as connection:
        timers = await connection.execute(
            text("SELECT count(*) FROM timers WHERE kind LIKE 'coffee.%' OR kind LIKE 'tags.%'")
        )
        # Only bob's refresh timer is left.
        assert timers.scalar_one() == 1
    assert "@bob" in (await chat.say("/whoknows python", as_="cy")).plain()
