"""Forged and malformed requests to the Slack endpoint: refused or ignored, nothing stored."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.adapters.slack import UNREADABLE_TEXT
from tests.adapters._slack_fakes import SIGNING_SECRET, SlackHarness, sign, slack_harness
from tests.reliability._database_scan import everything

ASK = "How did you prepare for your first senior interview? #interviews"


async def _raw(slack: SlackHarness, body: str | bytes, headers: dict[str, str]) -> int:
    url = slack.workspace.events_url
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        return r.status


def _signed_headers(body: str, timestamp: Any, signature: str | None = None) -> dict[str, str]:
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature
        if signature is not None
        else sign(body, int(timestamp) if str(timestamp).isdigit() else 0),
    }


def altered(signature: str) -> str:
    """Change a signature's last hex digit (to a digit it is not)."""
    return signature[:-1] + ("1" if signature.endswith("0") else "0")


def _forgeries(slack: SlackHarness) -> list[tuple[str, str | bytes, dict[str, str]]]:
    """Return (what, body, headers) for every way we try to fool the endpoint."""
    now = int(time.time())
    body = slack.workspace.command_body("/ask", ASK)
    good = sign(body, now)
    content = {"Content-Type": "application/x-www-form-urlencoded"}
    return [
        ("wrong secret", body, _signed_headers(body, now, sign(body, now, "not-the-secret"))),
        ("no signature", body, {**content, "X-Slack-Request-Timestamp": str(now)}),
        ("no timestamp", body, {**content, "X-Slack-Signature": good}),
        ("no headers", body, content),
        ("altered signature", body, _signed_headers(body, now, altered(good))),
        ("signature of v1", body, _signed_headers(body, now, "v1=" + good[3:])),
        ("empty signature", body, _signed_headers(body, now, "")),
        ("altered body", body.replace("senior", "junior"), _signed_headers(body, now, good)),
        ("appended body", body + "&user_id=U0ADMIN", _signed_headers(body, now, good)),
        ("timestamp 10 minutes old", body, _signed_headers(body, now - 600)),
        ("timestamp 10 minutes ahead", body, _signed_headers(body, now + 600)),
        ("timestamp changed", body, _signed_headers(body, now + 1, good)),
        ("non-numeric timestamp", body, _signed_headers(body, "soon", good)),
        ("negative timestamp", body, _signed_headers(body, -1, good)),
        ("huge timestamp", body, _signed_headers(body, "9" * 40, good)),
        ("unsigned junk", "\x00\xff junk", {"Content-Type": "text/plain"}),
        ("unsigned json", json.dumps({"type": "url_verification", "challenge": "x"}), {}),
        ("unsigned binary", bytes(range(256)), {"Content-Type": "application/octet-stream"}),
        ("empty body", "", {}),
    ]


async def test_forged_requests_are_refused_and_store_nothing(settings) -> None:
    async with slack_harness(settings) as slack:
        before = await everything(slack.app.database)
        statuses = {}
        for what, body, headers in _forgeries(slack):
            statuses[what] = await _raw(slack, body, headers)
        ssl_check = await _raw(slack, "ssl_check=1&token=x", {"Content-Type": content_type()})
        # Bolt answers an ssl_check before reading anything else: a command riding on one is
        # acknowledged and dropped (the handled count below stays at the genuine one).
        smuggled_body = "ssl_check=1&" + slack.workspace.command_body("/ask", ASK)
        smuggled = await _raw(slack, smuggled_body, {"Content-Type": content_type()})
        after = await everything(slack.app.database)
        # The bot is still up and still serves a correctly signed request.
        status, _ = await slack.workspace.command("/ask", ASK)
        await slack.settle("command", 1)
        await asyncio.sleep(0.2)  # room for anything else that was (wrongly) acknowledged

        assert {what: s for what, s in statuses.items() if s not in (400, 401)} == {}
        assert ssl_check == smuggled == 200  # Slack's certificate check is still answered
        assert statuses["non-numeric timestamp"] == 401
        assert statuses["wrong secret"] == 401
        assert after == before
        assert slack.adapter.handled["command"] == 1  # only the genuine one reached a listener
        assert status == 200
        [answer] = slack.api.responses
        assert "Posted as" in answer["text"]


def content_type() -> str:
    return "application/x-www-form-urlencoded"


def _interaction_body(payload: Any) -> str:
    return urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)})


async def _send_signed(slack: SlackHarness, body: str, content_type: str) -> int:
    status, _ = await slack.workspace.send(body, content_type)
    return status


async def test_correctly_signed_garbage_never_gives_a_500(settings) -> None:
    async with slack_harness(settings) as slack:
        form = "application/x-www-form-urlencoded"
        bodies = [
            ("not json payload", _interaction_body("{not json"), form),
            ("payload is a list", _interaction_body([1, 2, 3]), form),
            ("payload is a number", _interaction_body(7), form),
            ("payload without type", _interaction_body({"team": {"id": "T0001"}}), form),
            ("unknown type", _interaction_body({"type": "nonsense", "team": "T0001"}), form),
            ("junk form", "a=1&b=2&&&=", form),
            ("json list", "[1, 2]", "application/json"),
            ("json string", '"hello"', "application/json"),
            ("json broken", "{", "application/json"),
            ("event without event", json.dumps({"type": "event_callback"}), "application/json"),
            (
                "event is a string",
                json.dumps({"type": "event_callback", "team_id": "T0001", "event": "x"}),
                "application/json",
            ),
        ]
        statuses = {what: await _send_signed(slack, body, kind) for what, body, kind in bodies}
        health = await _raw_get(slack)

        assert {what: s for what, s in statuses.items() if s >= 500} == {}
        assert health == 200


async def _raw_get(slack: SlackHarness) -> int:
    url = slack.workspace.events_url.replace("/slack/events", "/healthz")
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        return answer.status


assert SIGNING_SECRET  # the harness signs with it; forgeries use anything else


async def test_payloads_naming_no_real_person_are_refused_and_store_nothing(settings) -> None:
    async with slack_harness(settings) as slack:
        workspace = slack.workspace
        before = await everything(slack.app.database)
        press = {
            "type": "block_actions",
            "team": {"id": "T0001"},
            "user": {"id": "U0ADA"},
            "actions": [{"action_id": "question.resolve", "value": "1"}],
            "response_url": slack.api.response_url(),
        }
        refused = {
            "user id is a number": {**press, "user": {"id": 42}},
            "user id is an object": {**press, "user": {"id": {"id": "U0ADA"}}},
            "user is a list": {**press, "user": ["U0ADA"]},
            "response_url is a number": {**press, "response_url": 7},
            "response_url is an object": {**press, "response_url": {"url": "http://x"}},
            "team is a list": {**press, "team": ["T0001"]},
            "actions is an object": {**press, "actions": {"action_id": "x"}},
            "action_id is a number": {**press, "actions": [{"action_id": 1, "value": "1"}]},
        }
        statuses = {what: (await workspace.interaction(body))[0] for what, body in refused.items()}
        # Well formed, but naming nobody: answered kindly, nothing written.
        nobody = {**press, "user": {"id": ""}}
        status_nobody, _ = await workspace.interaction(nobody)
        await slack.settle("action", 1)
        command_status, _ = await workspace.command("/crowdmentor", "questions", user="")
        await slack.settle("command", 1)
        after = await everything(slack.app.database)

    assert {what: s for what, s in statuses.items() if s != 400} == {}
    assert status_nobody == command_status == 200
    assert [r["text"] for r in slack.api.responses] == [UNREADABLE_TEXT, UNREADABLE_TEXT]
    assert after == before
    assert slack.api.called("users.info") == []
