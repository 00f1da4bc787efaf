"""The Slack app manifest comes from the registry: every command, scope and event it needs."""

from __future__ import annotations

from bot.adapters.slack_manifest import BOT_EVENTS, BOT_SCOPES, manifest
from bot.registry import CommandSpec, Param, ParamKind, build_registry, group


async def _noop(ctx, **kwargs):
    return None


def test_every_root_command_becomes_a_slash_command_with_its_request_url():
    registry = build_registry()

    made = manifest(registry, "https://bot.example.test/")

    commands = {c["command"]: c for c in made["features"]["slash_commands"]}
    assert set(commands) == {root.qualified for root in registry.roots()}
    assert commands["/ask"]["description"] == registry.commands[("ask",)].summary
    assert commands["/ask"]["usage_hint"] == "[--anonymous] [question]"
    assert "questions" in commands["/crowdmentor"]["usage_hint"].split(" | ")
    assert all(c["should_escape"] for c in commands.values())
    assert {c["url"] for c in commands.values()} == {"https://bot.example.test/slack/events"}


def test_a_new_command_needs_no_slack_code():
    registry = build_registry()
    registry.add(group("mentor", summary="Mentoring helpers"))
    registry.add(
        CommandSpec(
            ("mentor", "find"),
            "Find a mentor",
            (Param("topic", ParamKind.WORD, "A topic"),),
            handler=_noop,
        )
    )

    commands = [c["command"] for c in manifest(registry, None)["features"]["slash_commands"]]

    assert "/mentor" in commands


def test_scopes_events_interactivity_and_app_home_are_declared():
    made = manifest(build_registry(), "https://bot.example.test")

    scopes = set(made["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "users:read", "channels:history", "im:write"} <= scopes
    assert scopes == set(BOT_SCOPES)
    events = made["settings"]["event_subscriptions"]
    assert set(events["bot_events"]) == set(BOT_EVENTS)
    assert {"message.channels", "app_home_opened", "app_uninstalled", "tokens_revoked"} <= set(
        events["bot_events"]
    )
    assert events["request_url"] == "https://bot.example.test/slack/events"
    assert made["settings"]["interactivity"] == {
        "is_enabled": True,
        "request_url": "https://bot.example.test/slack/events",
    }
    assert made["features"]["app_home"]["home_tab_enabled"] is True
    assert made["settings"]["socket_mode_enabled"] is False
    assert len(made["display_information"]["description"]) <= 140


def test_without_a_url_the_manifest_is_for_socket_mode():
    made = manifest(build_registry(), None)

    assert made["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in made["settings"]["event_subscriptions"]
    assert all("url" not in c for c in made["features"]["slash_commands"])
    assert "redirect_urls" not in made["oauth_config"]
