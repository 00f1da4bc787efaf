"""Translate Slack payloads into crowdmentor events, and know who people are (users.info)."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack_render import YES, action_of
from bot.events import (
    Actor,
    ButtonPress,
    Community,
    FormSubmission,
    Invocation,
    Place,
    PlaceKind,
    ThreadMessage,
)

log = logging.getLogger(__name__)

PLATFORM = "slack"

# How long a person's name, time zone and admin flags are trusted before users.info is asked
# again. users.info is a Tier 4 method (100+ per minute): https://docs.slack.dev/reference/methods/users.info
USER_CACHE_SECONDS = 600.0
USER_CACHE_MAX_ENTRIES = 10_000

# Message subtypes that are still a person writing in a thread; every other subtype
# (message_changed, message_deleted, channel_join, bot_message…) is not a new reply.
# Source: https://docs.slack.dev/reference/events/message (subtypes)
COUNTED_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})

# Slack writes links, mentions and channels as <…> and escapes &, <, > elsewhere.
# Source: https://api.slack.com/reference/surfaces/formatting#escaping
_TOKEN = re.compile(r"<([^<>]*)>")
_NAMELESS_USER = re.compile(r"<@([UW][A-Z0-9]+)>")


def unescape_text(text: str) -> str:
    """Turn Slack's escaped text back into what the member typed.

    Mentions, channel references and special mentions stay tokens (commands read them; the core
    defuses mass mentions); links become their address; `&amp;`, `&lt;`, `&gt;` become `& < >`.
    """
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        out.append(html.unescape(text[position : match.start()]))
        inner = match.group(1)
        if inner[:1] in {"@", "#", "!"}:
            out.append(match.group(0))
        else:
            target, _, label = inner.partition("|")
            if target.startswith("mailto:"):
                out.append(html.unescape(label or target.removeprefix("mailto:")))
            else:
                out.append(html.unescape(target))
        position = match.end()
    out.append(html.unescape(text[position:]))
    return "".join(out)


def field_object(value: Any) -> dict[str, Any]:
    """Return `value` if it is a JSON object, else an empty one (a malformed field is missing)."""
    return value if isinstance(value, dict) else {}


def field_text(value: Any) -> str:
    """Return `value` if it is a string, else "" (Slack sends ids, names and ts as strings)."""
    return value if isinstance(value, str) else ""


def place_kind(channel_id: str, channel_name: str = "") -> PlaceKind:
    """Tell a channel from a direct or group conversation by its id and name."""
    if channel_id.startswith("D") or channel_name == "directmessage":
        return PlaceKind.DIRECT
    if channel_name.startswith("mpdm-"):
        return PlaceKind.GROUP
    return PlaceKind.CHANNEL


@dataclass(frozen=True, slots=True)
class SlackUser:
    """What users.info says about a person."""

    user_id: str
    display_name: str
    is_admin: bool = False
    is_bot: bool = False
    timezone: str | None = None


def user_from_info(info: dict[str, Any]) -> SlackUser:
    """Read a users.info `user` object."""
    profile = field_object(info.get("profile"))
    name = (
        field_text(profile.get("display_name"))
        or field_text(profile.get("real_name"))
        or field_text(info.get("real_name"))
        or field_text(info.get("name"))
        or field_text(info.get("id"))
    )
    return SlackUser(
        user_id=field_text(info.get("id")),
        display_name=name,
        # Workspace admins and owners are crowdmentor admins; named admins come from settings.
        # Only a real true counts: a string such as "false" must not make anyone an admin.
        is_admin=any(
            info.get(flag) is True for flag in ("is_admin", "is_owner", "is_primary_owner")
        ),
        is_bot=info.get("is_bot") is True,
        timezone=field_text(info.get("tz")) or None,
    )


class UserDirectory:
    """users.info with a time-limited cache, so a busy channel costs one lookup per person."""

    def __init__(
        self,
        *,
        ttl: float = USER_CACHE_SECONDS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self._now = now
        self._cache: dict[tuple[str, str], tuple[float, SlackUser]] = {}
        self._pending: dict[tuple[str, str], asyncio.Future[SlackUser | None]] = {}

    def forget(self, team_id: str, user_id: str) -> None:
        """Drop one person (their profile changed)."""
        self._cache.pop((team_id, user_id), None)

    async def lookup(self, client: AsyncWebClient, team_id: str, user_id: str) -> SlackUser | None:
        """Return what Slack knows about a person, or None when users.info failed."""
        key = (team_id, user_id)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self._now():
            return cached[1]
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[SlackUser | None] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            user = await self._fetch(client, user_id)
            if user is not None:
                if len(self._cache) >= USER_CACHE_MAX_ENTRIES:
                    self._cache.clear()
                self._cache[key] = (self._now() + self.ttl, user)
            future.set_result(user)
            return user
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters get it, nobody logs "never retrieved"
            raise
        finally:
            del self._pending[key]

    async def _fetch(self, client: AsyncWebClient, user_id: str) -> SlackUser | None:
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError as error:
            log.warning("users.info failed for %s: %s", user_id, error.response.get("error"))
            return None
        return user_from_info(field_object(response.get("user")))

    async def actor(
        self, client: AsyncWebClient, team_id: str, user_id: str, fallback_name: str = ""
    ) -> Actor:
        """Return the person as an Actor (a plain one, by id, when users.info is unavailable)."""
        user = await self.lookup(client, team_id, user_id)
        if user is None:
            return Actor(user_id=user_id, display_name=fallback_name or user_id)
        return Actor(
            user_id=user_id,
            display_name=user.display_name or fallback_name or user_id,
            is_platform_admin=user.is_admin,
            is_bot=user.is_bot,
            timezone=user.timezone,
        )

    async def name_mentions(self, client: AsyncWebClient, team_id: str, text: str) -> str:
        """Give `<@U…>` tokens their names (`<@U…|name>`) so commands know who was meant."""
        ids = list(dict.fromkeys(_NAMELESS_USER.findall(text)))
        if not ids:
            return text
        users = await asyncio.gather(*(self.lookup(client, team_id, uid) for uid in ids))
        names = {
            uid: re.sub(r"[<>|]", "", user.display_name)
            for uid, user in zip(ids, users, strict=True)
            if user is not None
        }

        def _named(match: re.Match[str]) -> str:
            name = names.get(match.group(1))
            return f"<@{match.group(1)}|{name}>" if name else match.group(0)

        return _NAMELESS_USER.sub(_named, text)


def team_of(body: dict[str, Any]) -> str:
    """Return the workspace id of any payload (command, interaction, event)."""
    return (
        field_text(field_object(body.get("team")).get("id"))
        or field_text(body.get("team_id"))
        or field_text(field_object(body.get("user")).get("team_id"))
    )


def invocation_from_command(
    body: dict[str, Any], actor: Actor, community: Community, text: str
) -> Invocation:
    """Build an Invocation from a slash command (`text` already unescaped and named)."""
    channel_id = field_text(body.get("channel_id"))
    channel_name = field_text(body.get("channel_name"))
    return Invocation(
        command=field_text(body.get("command")).lstrip("/"),
        text=text,
        actor=actor,
        community=community,
        place=Place(channel_id, None, place_kind(channel_id, channel_name), channel_name),
    )


@dataclass(frozen=True, slots=True)
class PressedButton:
    """A button press and what Slack tells about the message it was on."""

    press: ButtonPress
    message_ts: str | None
    ephemeral: bool


def press_from_action(
    body: dict[str, Any], action: dict[str, Any], actor: Actor, community: Community
) -> PressedButton:
    """Build a ButtonPress from a block_actions payload (the value is re-checked by handlers)."""
    container = field_object(body.get("container"))
    channel = field_object(body.get("channel"))
    channel_id = field_text(channel.get("id")) or field_text(container.get("channel_id"))
    message = field_object(body.get("message"))
    thread = field_text(message.get("thread_ts")) or field_text(container.get("thread_ts"))
    channel_name = field_text(channel.get("name"))
    place = Place(channel_id, thread or None, place_kind(channel_id, channel_name), channel_name)
    press = ButtonPress(
        action=action_of(field_text(action.get("action_id"))),
        value=field_text(action.get("value")),
        actor=actor,
        community=community,
        place=place,
    )
    return PressedButton(
        press=press,
        message_ts=field_text(container.get("message_ts")) or field_text(message.get("ts")) or None,
        ephemeral=bool(container.get("is_ephemeral")),
    )


def form_values(view: dict[str, Any]) -> dict[str, str | bool]:
    """Read a submitted modal's inputs: text as str, yes/no checkboxes as bool."""
    values: dict[str, str | bool] = {}
    state = field_object(field_object(view.get("state")).get("values"))
    for block_id, actions in state.items():
        for element in field_object(actions).values():
            element = field_object(element)
            kind = element.get("type")
            if kind == "checkboxes":
                chosen = element.get("selected_options")
                chosen = chosen if isinstance(chosen, list) else []
                values[block_id] = any(field_object(o).get("value") == YES for o in chosen)
            elif kind == "plain_text_input":
                values[block_id] = field_text(element.get("value"))
    return values


def view_metadata(view: dict[str, Any]) -> dict[str, str]:
    """Return what we stored in a modal's private_metadata (where it was opened)."""
    try:
        data = json.loads(field_text(view.get("private_metadata")) or "{}")
    except (ValueError, RecursionError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def submission_from_view(
    body: dict[str, Any], actor: Actor, community: Community
) -> tuple[FormSubmission, dict[str, str]]:
    """Build a FormSubmission from a view_submission payload, with the modal's metadata."""
    view = field_object(body.get("view"))
    metadata = view_metadata(view)
    channel_id = metadata.get("channel", "")
    place = Place(
        channel_id,
        metadata.get("thread") or None,
        place_kind(channel_id, metadata.get("channel_name", "")),
        metadata.get("channel_name", ""),
    )
    submission = FormSubmission(
        form_id=field_text(view.get("callback_id")),
        values=form_values(view),
        actor=actor,
        community=community,
        place=place,
    )
    return submission, metadata


def is_thread_reply(event: dict[str, Any]) -> bool:
    """Tell whether a message event is a person's reply inside a thread."""
    if event.get("subtype") not in COUNTED_SUBTYPES:
        return False
    if event.get("bot_id") or event.get("bot_profile") or not field_text(event.get("user")):
        return False
    thread_ts = field_text(event.get("thread_ts"))
    return bool(thread_ts) and thread_ts != event.get("ts")


def thread_message_from_event(
    event: dict[str, Any], actor: Actor, community: Community
) -> ThreadMessage:
    """Build a ThreadMessage; its id is the message ts, so a retried event counts once."""
    channel_id = field_text(event.get("channel"))
    kind = PlaceKind.DIRECT if event.get("channel_type") == "im" else place_kind(channel_id)
    if event.get("channel_type") == "mpim":
        kind = PlaceKind.GROUP
    return ThreadMessage(
        message_id=field_text(event.get("ts")),
        actor=actor,
        community=community,
        place=Place(channel_id, field_text(event.get("thread_ts")), kind),
    )
