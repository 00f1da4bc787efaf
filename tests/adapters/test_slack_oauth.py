"""Multi-workspace Slack: OAuth installs stored in our database, per-workspace tokens, uninstall."""

from __future__ import annotations

import re

import aiohttp
import pytest
from pydantic import SecretStr
from sqlmodel import select

from bot.adapters.base import Delivery, DeliveryError, DeliveryKind
from bot.events import Community
from bot.replies import Reply, rich
from bot.store.models import Community as CommunityRow
from bot.store.models import SlackInstallation
from bot.store.slack_installations import SealError, TokenSeal
from tests.adapters._slack_fakes import slack_harness

CLIENT_SECRET = "client-secret-for-tests"


def _grant(team: str, token: str) -> dict:
    return {
        "access_token": token,
        "token_type": "bot",
        "scope": "commands,chat:write",
        "bot_user_id": f"UBOT{team}",
        "app_id": "A0001",
        "team": {"id": team, "name": f"Team {team}"},
        "enterprise": None,
        "authed_user": {"id": "U0INSTALLER"},
        "is_enterprise_install": False,
    }


async def _start(browser: aiohttp.ClientSession, base: str) -> tuple[str, dict[str, str]]:
    """Open the install page; return the state and the cookie a browser would send back."""
    async with browser.get(f"{base}/slack/install") as page:
        html = await page.text()
        # The state cookie is Secure; a browser sends it back to the real HTTPS host.
        cookie = page.headers["Set-Cookie"].split(";")[0]
    state = re.search(r"state=([^&\"']+)", html).group(1)
    return state, {"Cookie": cookie}


async def _install(slack, code: str) -> int:
    base = f"http://127.0.0.1:{slack.adapter.bound_port}"
    async with aiohttp.ClientSession() as browser:
        state, cookie = await _start(browser, base)
        query = {"code": code, "state": state}
        async with browser.get(
            f"{base}/slack/oauth_redirect", params=query, headers=cookie
        ) as done:
            return done.status


def _oauth(settings):
    return {
        "slack_bot_token": None,
        "slack_client_id": "1234.5678",
        "slack_client_secret": SecretStr(CLIENT_SECRET),
    }


async def test_two_workspaces_install_and_each_is_served_with_its_own_token(settings):
    async with slack_harness(settings, **_oauth(settings)) as slack:
        slack.api.oauth_grants["code-2"] = _grant("T0002", "xoxb-TEAM-TWO")
        slack.api.oauth_grants["code-3"] = _grant("T0003", "xoxb-TEAM-THREE")

        assert await _install(slack, "code-2") == 200
        assert await _install(slack, "code-3") == 200
        slack.workspace.team_id = "T0003"
        await slack.workspace.command("/crowdmentor", "help", user="U0CAROL")
        await slack.settle("command", 1)
        delivered = await slack.adapter.deliver(
            Delivery(
                key="hello",
                kind=DeliveryKind.POST,
                community=Community("slack", "T0002"),
                reply=Reply(text=rich("hello")),
                channel_id="C0TWO",
            )
        )

        [lookup] = slack.api.called("users.info")
        assert lookup.token == "xoxb-TEAM-THREE"
        async with slack.app.database.unit_of_work() as uow:
            [three] = (await uow.session.exec(select(CommunityRow))).all()
        assert (three.external_id, three.name) == ("T0003", "Team T0003")
        [post] = slack.api.called("chat.postMessage")
        assert post.token == "xoxb-TEAM-TWO"
        assert delivered.message_ref
        async with slack.app.database.unit_of_work() as uow:
            rows = (await uow.session.exec(select(SlackInstallation))).all()
        assert {r.team_id for r in rows} == {"T0002", "T0003"}
        for row in rows:
            assert "xoxb" not in row.bot_token  # sealed at rest
            assert TokenSeal(CLIENT_SECRET).open(row.bot_token).startswith("xoxb-TEAM-")


async def test_a_state_is_single_use(settings):
    async with slack_harness(settings, **_oauth(settings)) as slack:
        slack.api.oauth_grants["code-2"] = _grant("T0002", "xoxb-TEAM-TWO")
        base = f"http://127.0.0.1:{slack.adapter.bound_port}"
        redirect = f"{base}/slack/oauth_redirect"
        async with aiohttp.ClientSession() as browser:
            state, cookie = await _start(browser, base)
            query = {"code": "code-2", "state": state}
            async with browser.get(redirect, params=query, headers=cookie) as first:
                assert first.status == 200
            async with browser.get(redirect, params=query, headers=cookie) as replay:
                assert replay.status != 200
        assert len(slack.api.called("oauth.v2.access")) == 1


async def test_uninstall_forgets_the_installation_and_schedules_the_data_deletion(settings):
    async with slack_harness(settings, **_oauth(settings)) as slack:
        slack.api.oauth_grants["code-2"] = _grant("T0002", "xoxb-TEAM-TWO")
        slack.api.oauth_grants["code-3"] = _grant("T0003", "xoxb-TEAM-THREE")
        await _install(slack, "code-2")
        await _install(slack, "code-3")
        slack.workspace.team_id = "T0002"
        await slack.workspace.command("/ask", "How do I prepare for a conference talk?")
        await slack.settle("command", 1)

        await slack.workspace.event({"type": "app_uninstalled"})
        await slack.settle("removed", 1)

        async with slack.app.database.unit_of_work() as uow:
            installed = (await uow.session.exec(select(SlackInstallation.team_id))).all()
            communities = (await uow.session.exec(select(CommunityRow))).all()
        assert installed == ["T0003"]
        [two] = [c for c in communities if c.external_id == "T0002"]
        assert two.removed_at is not None
        with pytest.raises(DeliveryError) as gone:
            await slack.adapter.deliver(
                Delivery(
                    key="after",
                    kind=DeliveryKind.POST,
                    community=Community("slack", "T0002"),
                    reply=Reply(text=rich("hello")),
                    channel_id="C0TWO",
                )
            )
        assert gone.value.permanent


def test_a_sealed_token_round_trips_and_refuses_tampering_or_another_key():
    seal = TokenSeal("secret-one")
    sealed = seal.seal("xoxb-123-456")

    assert seal.open(sealed) == "xoxb-123-456"
    assert sealed != seal.seal("xoxb-123-456")  # a fresh nonce every time
    with pytest.raises(SealError):
        TokenSeal("secret-two").open(sealed)
    flipped = sealed[:-5] + ("A" if sealed[-5] != "A" else "B") + sealed[-4:]
    with pytest.raises(SealError):
        seal.open(flipped)
