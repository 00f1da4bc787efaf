"""The Slack app manifest, generated from the registry: paste it and the app works.

Source for the format: https://docs.slack.dev/reference/app-manifest
"""

from __future__ import annotations

from typing import Any

from bot.registry import CommandSpec, Registry

EVENTS_PATH = "/slack/events"
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"

APP_NAME = "crowdmentor"
# display_information.description: at most 140 characters (manifest reference).
DESCRIPTION = "Ask the group, find someone with time for you, meet your peers."
LONG_DESCRIPTION = (
    "crowdmentor scales mentorship the way it really works: from the crowd, from your peers, "
    "and from people who have time for you. Ask the whole community with /ask and get answers "
    "in the thread; replies are counted and credited, and the asker marks the answer that "
    "helped. Your own questions are on the app's Home tab. Everything is available through "
    "/crowdmentor help."
)
BACKGROUND_COLOR = "#2f4858"

# Slash command fields: description at most 2000 characters, usage_hint at most 1000.
# Source: https://docs.slack.dev/reference/app-manifest#slash_commands
USAGE_HINT_MAX_CHARS = 1_000

# Bot scopes, each for something the adapter does. Sources: https://docs.slack.dev/reference/scopes
BOT_SCOPES = (
    "commands",  # the slash commands
    "chat:write",  # questions, thread messages, edits, direct messages
    "chat:write.public",  # post questions in public channels the bot was not invited to
    "channels:join",  # join the ask channel, so replies there arrive as message events
    "channels:history",  # message.channels events (thread replies) and finding earlier posts
    "groups:history",  # the same in private channels the bot was invited to
    "im:history",  # finding an earlier direct message before retrying one
    "mpim:history",  # the same for group conversations
    "im:write",  # open direct messages (conversations.open)
    "mpim:write",  # open group conversations of up to 8 people
    "users:read",  # users.info: names, time zones, workspace admins and owners
    "files:write",  # hand a member their data export as a file
)

# Events. Source: https://docs.slack.dev/reference/events
BOT_EVENTS = (
    "app_home_opened",
    "app_uninstalled",
    "message.channels",
    "message.groups",
    "tokens_revoked",
)


def _events_url(url: str) -> str:
    base = url.rstrip("/")
    return base if base.endswith(EVENTS_PATH) else base + EVENTS_PATH


def _redirect_url(url: str) -> str:
    base = url.rstrip("/").removesuffix(EVENTS_PATH)
    return base + OAUTH_REDIRECT_PATH


def usage_hint(registry: Registry, root: CommandSpec) -> str:
    """Return what Slack shows after the command name while typing it."""
    children = [child.name for child in registry.children(root.path)]
    own = root.usage().removeprefix(root.qualified).strip()
    return (" | ".join(children) if children else own)[:USAGE_HINT_MAX_CHARS]


def slash_commands(registry: Registry, url: str | None) -> list[dict[str, Any]]:
    """Return one slash command per top-level command of the registry."""
    commands = []
    for root in registry.roots():
        entry: dict[str, Any] = {
            "command": root.qualified,
            "description": root.summary,
            "should_escape": True,  # mentions and channels arrive as <@U…> and <#C…>
        }
        if hint := usage_hint(registry, root):
            entry["usage_hint"] = hint
        if url:
            entry["url"] = _events_url(url)
        commands.append(entry)
    return commands


def manifest(registry: Registry, url: str | None) -> dict[str, Any]:
    """Return the app manifest; with `url`, for HTTP mode (request URLs), else Socket Mode."""
    settings: dict[str, Any] = {
        "event_subscriptions": {"bot_events": list(BOT_EVENTS)},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "socket_mode_enabled": url is None,
        "token_rotation_enabled": False,
    }
    oauth: dict[str, Any] = {"scopes": {"bot": list(BOT_SCOPES)}}
    if url:
        settings["event_subscriptions"]["request_url"] = _events_url(url)
        settings["interactivity"]["request_url"] = _events_url(url)
        oauth["redirect_urls"] = [_redirect_url(url)]
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": APP_NAME,
            "description": DESCRIPTION,
            "long_description": LONG_DESCRIPTION,
            "background_color": BACKGROUND_COLOR,
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": False,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": APP_NAME, "always_online": True},
            "slash_commands": slash_commands(registry, url),
        },
        "oauth_config": oauth,
        "settings": settings,
    }
