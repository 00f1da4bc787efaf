"""Uninstall, revoked tokens and guild removal, end to end through the adapters.

After the grace period every row of the removed community is gone (the whole database is
scanned for its traces), the other communities are untouched, and the Slack installation with
its sealed token went at once. Coming back within the grace period keeps everything.
"""

from datetime import timedelta

from bot.adapters.local import LocalPlatform
from bot.events import Community
from bot.testing import Chat
from tests.adapters._discord_fakes import GUILD_ID, discord_world
from tests.adapters._slack_fakes import slack_harness
from tests.adapters.test_slack_oauth import _grant, _install, _oauth
from tests.reliability._database_scan import (
    community_id,
    everything,
    mentions_of,
    rows_of_community,
)

TEAMS = ("T0002", "T0003", "T0004")


def question_of(place: str) -> str:
    return f"How do you onboard new hires at {place}? #onboarding"


async def nothing_lost(database, community: int, before: dict[str, int]) -> None:
    """Assert a community kept every row it had (its timers may have added some since)."""
    after = await rows_of_community(database, community)
    assert after["communities"] == 1
    assert {table: n for table, n in after.items() if n < before[table]} == {}


async def past_the_grace_period(app) -> None:
    """Move the clock one day past the grace period and run what fell due."""
    app.clock.advance(timedelta(days=app.settings.privacy.removal_grace_days + 1))
    await app.scheduler.run_due()


async def test_slack_uninstall_and_revoked_bot_token_delete_the_workspace_unless_reinstalled(
    settings,
):
    async with slack_harness(settings, **_oauth(settings)) as slack:
        for team in TEAMS:
            slack.api.oauth_grants[f"code-{team}"] = _grant(team, f"xoxb-TEAM-{team}")
            assert await _install(slack, f"code-{team}") == 200
            slack.workspace.team_id = team
            await slack.workspace.command("/ask", question_of(team), user=f"U{team}ASK")
            await slack.workspace.command("/askme", "add onboarding", user=f"U{team}TAG")
        await slack.settle("command", 2 * len(TEAMS))
        await slack.deliver()
        database = slack.app.database
        ids = {team: await community_id(database, "slack", team) for team in TEAMS}
        kept_before = {team: await rows_of_community(database, ids[team]) for team in TEAMS[1:]}
        assert kept_before["T0003"]["questions"] == 1
        assert kept_before["T0003"]["member_tags"] == 1

        slack.workspace.team_id = "T0002"
        await slack.workspace.event({"type": "app_uninstalled"})
        slack.workspace.team_id = "T0004"
        await slack.workspace.event({"type": "tokens_revoked", "tokens": {"bot": ["UBOTT0004"]}})
        await slack.settle("removed", 2)
        dump = await everything(database)
        assert [row.split(" | ")[1] for row in dump["slack_installations"]] == ["T0003"]
        assert not mentions_of(dump, "xoxb-")  # tokens are only ever stored sealed
        # T0004 installs again within the grace period: nothing of it is deleted.
        assert await _install(slack, "code-T0004") == 200

        await past_the_grace_period(slack.app)

        assert set((await rows_of_community(database, ids["T0002"])).values()) == {0}
        dump = await everything(database)
        assert mentions_of(dump, "T0002") == []
        assert mentions_of(dump, question_of("T0002").split(" #")[0]) == []
        for team in TEAMS[1:]:
            await nothing_lost(database, ids[team], kept_before[team])
        assert {row.split(" | ")[1] for row in dump["slack_installations"]} == {"T0003", "T0004"}


async def test_discord_guild_removal_deletes_the_guild_after_the_grace_period(settings):
    async with discord_world(settings) as world:
        await world.slash("/ask", question=question_of("the guild"))
        await world.slash("/askme add", topics="onboarding")
        await world.deliver()
        other = Chat(world.app, LocalPlatform(), Community("memory", "OTHER", "Elsewhere"))
        await other.say(f"/ask {question_of('elsewhere')}", as_="zoe")
        database = world.app.database
        guild = await community_id(database, "discord", str(GUILD_ID))
        elsewhere = await community_id(database, "memory", "OTHER")
        before = await rows_of_community(database, elsewhere)
        assert (await rows_of_community(database, guild))["questions"] == 1

        world.fake.remove_from_guild()
        await world.fake.settle()
        await past_the_grace_period(world.app)

        assert set((await rows_of_community(database, guild)).values()) == {0}
        dump = await everything(database)
        assert mentions_of(dump, str(GUILD_ID)) == []
        assert mentions_of(dump, "the guild") == []
        await nothing_lost(database, elsewhere, before)
        assert "elsewhere" in (await other.say("/crowdmentor questions all", as_="zoe")).plain()


async def test_a_guild_that_invites_the_bot_back_within_the_grace_period_keeps_its_data(settings):
    async with discord_world(settings) as world:
        await world.slash("/ask", question=question_of("the guild"))
        await world.deliver()
        database = world.app.database
        guild = await community_id(database, "discord", str(GUILD_ID))
        before = await rows_of_community(database, guild)

        world.fake.remove_from_guild()
        await world.fake.settle()
        world.app.clock.advance(timedelta(days=3))
        invited = world.fake.guild_payload()
        del invited["unavailable"]  # a guild that joins, not one back from an outage
        world.fake.gateway("guild_create", invited)
        await world.fake.settle()
        await past_the_grace_period(world.app)

        await nothing_lost(database, guild, before)
