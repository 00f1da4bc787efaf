"""A local fake of Discord for the adapter tests: its HTTP API on 127.0.0.1, plus the gateway
events Discord would send, fed straight into the client.

This is the only module that touches discord.py internals (pinned in pyproject.toml):
`discord.http.Route.BASE` (where REST calls go) and `client._connection.parse_*` (how gateway
payloads and interactions enter the client). If a discord.py upgrade moves them,
`test_discord_fakes_still_reach_discord_py_internals` fails first.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import discord
import discord.http
from aiohttp import web

GUILD_ID = 1_100_000_000_000_000_001
BOT_ID = 1_100_000_000_000_000_002
APP_ID = BOT_ID
BOT_ROLE_ID = 1_100_000_000_000_000_003
TOKEN = "fake-discord-token"

# Permission bits. Source: https://discord.com/developers/docs/topics/permissions
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MEMBER_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | (1 << 16) | (1 << 31) | (1 << 38)
EPHEMERAL = 1 << 6

_NOW = "2026-01-01T00:00:00.000000+00:00"


def internals_available() -> bool:
    """Tell whether the discord.py internals this fake relies on still exist."""
    state = discord.state.ConnectionState
    return isinstance(getattr(discord.http.Route, "BASE", None), str) and all(
        hasattr(state, f"parse_{event}")
        for event in (
            "interaction_create",
            "guild_create",
            "guild_delete",
            "message_create",
            "thread_create",
            "channel_update",
        )
    )


@dataclass(frozen=True)
class Person:
    """A member of the fake guild."""

    id: int
    name: str
    admin: bool = False
    bot: bool = False

    def user(self) -> dict[str, Any]:
        """Return the user object."""
        return {
            "id": str(self.id),
            "username": self.name,
            "global_name": self.name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
        }

    def permissions(self) -> int:
        """Return the member's guild permissions."""
        return MEMBER_PERMISSIONS | (MANAGE_GUILD if self.admin else 0)

    def member(self, *, with_user: bool = True) -> dict[str, Any]:
        """Return the member object (with its resolved permissions, as interactions carry)."""
        data: dict[str, Any] = {
            "roles": [],
            "joined_at": _NOW,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "pending": False,
            "premium_since": None,
            "permissions": str(self.permissions()),
        }
        if with_user:
            data["user"] = self.user()
        return data


ADA = Person(1_100_000_000_000_000_101, "ada")
BOB = Person(1_100_000_000_000_000_102, "bob")
ADMIN = Person(1_100_000_000_000_000_103, "grace", admin=True)
OTHER_BOT = Person(1_100_000_000_000_000_104, "otherbot", bot=True)


@dataclass
class Request:
    """One HTTP request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    files: list[str]
    at: float

    @property
    def json(self) -> dict[str, Any]:
        """Return the JSON body (or {})."""
        return self.body if isinstance(self.body, dict) else {}


@dataclass
class Failure:
    """A planned error: answer matching requests with `status` (optionally after handling)."""

    method: str
    pattern: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int = 1
    after_handling: bool = False


@dataclass
class FailureWindow:
    """Discord unwell for a while: every request fails with `status` until `until` (monotonic).

    A 429 carries Retry-After as Discord sends it (with the Via header discord.py looks for).
    `failed` records every request answered with the error.
    """

    status: int = 503
    retry_after: float | None = None
    until: float = 0.0
    failed: list[Request] = field(default_factory=list)

    def covers(self, now: float) -> bool:
        """Tell whether the window is still open."""
        return now < self.until

    def answer(self) -> web.Response:
        """Return the error response."""
        if self.status == 429:
            wait = self.retry_after or 1.0
            body = {"message": "You are being rate limited.", "retry_after": wait, "global": False}
            return _json(body, 429, {"Via": "1.1 google", "Retry-After": str(wait)})
        return _json({"message": "Service Unavailable", "code": 0}, self.status)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses JSON only when the content type is exactly application/json.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


@dataclass
class FakeDiscord:
    """Discord's REST API for one guild, kept in memory, with the gateway events it causes."""

    guild_name: str = "Mentors Guild"
    bot_can_manage_channels: bool = True
    channels: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    commands: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    windows: list[FailureWindow] = field(default_factory=list)
    clients: list[discord.Client] = field(default_factory=list)
    thread_members: dict[int, set[int]] = field(default_factory=dict)
    interaction_responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    url: str = ""
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1_200_000_000_000_000_000))
    _runner: web.AppRunner | None = None
    _dms: dict[int, int] = field(default_factory=dict)
    _token_channels: dict[str, int] = field(default_factory=dict)
    _route_base: str = ""

    # ---- the guild -------------------------------------------------------------------------

    def next_id(self) -> int:
        """Return a fresh snowflake."""
        return next(self._ids)

    def add_channel(self, name: str, *, kind: int = 0, **extra: Any) -> int:
        """Add a channel (0 text, 15 forum) and return its id."""
        channel_id = self.next_id()
        self.channels[channel_id] = {
            "id": str(channel_id),
            "type": kind,
            "guild_id": str(GUILD_ID),
            "name": name,
            "position": len(self.channels),
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
            **extra,
        }
        return channel_id

    def add_forum(self, name: str, tags: tuple[str, ...] = (), *, require_tag: bool = False) -> int:
        """Add a forum channel with some tags."""
        return self.add_channel(
            name,
            kind=15,
            available_tags=[self._tag(tag) for tag in tags],
            default_reaction_emoji=None,
            default_sort_order=None,
            default_forum_layout=0,
            default_thread_rate_limit_per_user=0,
            flags=(1 << 4) if require_tag else 0,
        )

    def _tag(self, name: str, tag_id: int | None = None) -> dict[str, Any]:
        return {
            "id": str(tag_id or self.next_id()),
            "name": name,
            "moderated": False,
            "emoji_id": None,
            "emoji_name": None,
        }

    def guild_payload(self) -> dict[str, Any]:
        """Return the GUILD_CREATE payload for the guild as it stands."""
        bot_role_permissions = MEMBER_PERMISSIONS | (
            MANAGE_CHANNELS if self.bot_can_manage_channels else 0
        )
        role = {
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
            "icon": None,
            "unicode_emoji": None,
        }
        bot = Person(BOT_ID, "crowdmentor", bot=True)
        bot_member = bot.member()
        bot_member["roles"] = [str(BOT_ROLE_ID)]
        return {
            "id": str(GUILD_ID),
            "name": self.guild_name,
            "icon": None,
            "owner_id": str(ADMIN.id),
            "roles": [
                {
                    **role,
                    "id": str(GUILD_ID),
                    "name": "@everyone",
                    "position": 0,
                    "permissions": str(MEMBER_PERMISSIONS),
                },
                {
                    **role,
                    "id": str(BOT_ROLE_ID),
                    "name": "crowdmentor",
                    "position": 1,
                    "permissions": str(bot_role_permissions),
                    "managed": True,
                },
            ],
            "emojis": [],
            "stickers": [],
            "features": [],
            "channels": [c for c in self.channels.values() if c["type"] not in (11, 12)],
            "threads": [c for c in self.channels.values() if c["type"] in (11, 12)],
            "members": [bot_member],
            "member_count": 4,
            "large": False,
            "unavailable": False,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "system_channel_flags": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "joined_at": _NOW,
        }

    # ---- serving ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve the API on 127.0.0.1 and point discord.py at it."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._route_base = discord.http.Route.BASE
        discord.http.Route.BASE = f"{self.url}/api/v10"

    async def close(self) -> None:
        """Close every client and stop serving."""
        for client in self.clients:
            with contextlib.suppress(Exception):
                await client.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._route_base:
            discord.http.Route.BASE = self._route_base

    async def connect(self, client: discord.Client) -> None:
        """Log a client in (REST only) and hand it the guild, as the gateway would."""
        await client.login(TOKEN)
        self.clients.append(client)
        client._connection.parse_guild_create(self.guild_payload())

    def disconnect(self, client: discord.Client) -> None:
        """Stop sending gateway events to a client (a process that went away)."""
        self.clients.remove(client)

    def gateway(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event to every connected client."""
        for client in self.clients:
            getattr(client._connection, f"parse_{event}")(data)

    async def settle(self, limit: float = 10.0) -> None:
        """Wait until the clients have finished everything the last events started."""
        deadline = time.monotonic() + limit
        current = asyncio.current_task()
        while True:
            pending = [
                task
                for task in asyncio.all_tasks()
                if task is not current
                and not task.done()
                and task.get_name().startswith(("discord.py: ", "CommandTree", "discord-ui"))
                and "timeout" not in task.get_name()
            ]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"still running: {[t.get_name() for t in pending]}")
            await asyncio.wait(pending, timeout=deadline - time.monotonic())

    # ---- failures --------------------------------------------------------------------------

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        body: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
        after_handling: bool = False,
    ) -> None:
        """Answer the next `times` matching requests with an error."""
        self.failures.append(
            Failure(
                method, re.compile(path), status, body or {}, headers or {}, times, after_handling
            )
        )

    def fail_while(self, window: FailureWindow, seconds: float) -> FailureWindow:
        """Fail every request as `window` says for the next `seconds`."""
        window.until = time.monotonic() + seconds
        self.windows.append(window)
        return window

    def rate_limit(self, method: str, path: str, retry_after: float, *, times: int = 1) -> None:
        """Answer with a 429 as Discord does (discord.py retries only with a Via header)."""
        self.fail(
            method,
            path,
            429,
            {"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
            headers={"Via": "1.1 google", "Retry-After": str(retry_after)},
            times=times,
        )

    def _planned(self, method: str, path: str) -> Failure | None:
        for failure in self.failures:
            if failure.times > 0 and failure.method == method and failure.pattern.search(path):
                failure.times -= 1
                return failure
        return None

    # ---- the HTTP API ----------------------------------------------------------------------

    async def _read(self, request: web.Request) -> tuple[Any, list[str]]:
        if request.content_type.startswith("multipart/"):
            body: Any = None
            files: list[str] = []
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                else:
                    files.append(part.filename or "")
                    await part.read()
            return body, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), []

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix("/api/v10")
        body, files = await self._read(request)
        self.requests.append(
            Request(request.method, path, dict(request.query), body, files, time.monotonic())
        )
        window = next((w for w in self.windows if w.covers(time.monotonic())), None)
        if window is not None:
            window.failed.append(self.requests[-1])
            return window.answer()
        failure = self._planned(request.method, path)
        if failure is not None and not failure.after_handling:
            return _json(failure.body, failure.status, failure.headers)
        response = self._route(request.method, path, body or {}, files)
        if failure is not None:
            return _json(failure.body, failure.status, failure.headers)
        return response

    def _route(
        self, method: str, path: str, body: dict[str, Any], files: list[str]
    ) -> web.Response:
        routes: list[tuple[str, str, Callable[..., web.Response]]] = [
            ("GET", r"^/users/@me$", self._me),
            ("GET", r"^/oauth2/applications/@me$", self._application),
            ("GET", r"^/applications/\d+/commands$", self._get_commands),
            ("PUT", r"^/applications/\d+/commands$", self._put_commands),
            ("POST", r"^/interactions/(\d+)/([^/]+)/callback$", self._callback),
            ("POST", r"^/webhooks/\d+/([^/]+)$", self._followup),
            ("PATCH", r"^/webhooks/\d+/([^/]+)/messages/@original$", self._edit_original),
            ("DELETE", r"^/webhooks/\d+/([^/]+)/messages/@original$", self._no_content),
            ("GET", r"^/channels/(\d+)$", self._get_channel),
            ("PATCH", r"^/channels/(\d+)$", self._edit_channel),
            ("POST", r"^/channels/(\d+)/messages$", self._create_message),
            ("PATCH", r"^/channels/(\d+)/messages/(\d+)$", self._edit_message),
            ("POST", r"^/channels/(\d+)/messages/(\d+)/threads$", self._thread_from_message),
            ("POST", r"^/channels/(\d+)/threads$", self._create_thread),
            ("PUT", r"^/channels/(\d+)/thread-members/(\d+)$", self._add_member),
            ("GET", r"^/guilds/\d+/threads/active$", self._active_threads),
            ("POST", r"^/users/@me/channels$", self._dm),
        ]
        for verb, pattern, handler in routes:
            match = re.match(pattern, path)
            if verb == method and match:
                ids = [int(g) if g.isdigit() else g for g in match.groups()]
                return handler(*ids, body=body, files=files)
        return _json({"message": f"fake Discord has no {method} {path}", "code": 0}, 404)

    def _me(self, *, body: Any = None, files: Any = None) -> web.Response:
        return _json(Person(BOT_ID, "crowdmentor", bot=True).user())

    def _get_commands(self, *, body: Any = None, files: Any = None) -> web.Response:
        return _json(self.commands)

    def _no_content(self, *ids: Any, body: Any = None, files: Any = None) -> web.Response:
        return web.Response(status=204)

    def _application(self, *, body: Any = None, files: Any = None) -> web.Response:
        owner = ADMIN.user()
        return _json({
            "id": str(APP_ID), "name": "crowdmentor", "icon": None, "description": "",
            "rpc_origins": [], "bot_public": True, "bot_require_code_grant": False,
            "owner": owner, "summary": "", "verify_key": "0" * 64, "team": None, "flags": 0,
            "interactions_endpoint_url": None,
        })  # fmt: skip

    def _put_commands(self, *, body: Any = None, files: Any = None) -> web.Response:
        stored = []
        for command in body or []:
            stored.append({**command, "id": str(self.next_id()), "application_id": str(APP_ID),
                           "version": str(self.next_id())})  # fmt: skip
        self.commands = stored
        return _json(stored)

    # interactions

    def _message(
        self, channel_id: int, body: dict[str, Any], *, author: Person | None = None, **extra: Any
    ) -> dict[str, Any]:
        message_id = extra.pop("id", None) or self.next_id()
        channel = self.channels.get(channel_id, {})
        return {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "guild_id": channel.get("guild_id"),
            "author": (author or Person(BOT_ID, "crowdmentor", bot=True)).user(),
            "content": body.get("content") or "",
            "timestamp": _NOW,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags") or 0,
            "nonce": body.get("nonce"),
            "allowed_mentions": body.get("allowed_mentions"),
            **extra,
        }

    def _callback(
        self, interaction_id: int, token: str, *, body: Any = None, files: Any = None
    ) -> web.Response:
        kind = body.get("type")
        data = body.get("data") or {}
        reply: dict[str, Any] = {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool((data.get("flags") or 0) & EPHEMERAL),
            }
        }
        if kind in (4, 5):
            message = self._message(self._token_channels.get(token, 0), data)
            self.interaction_responses.setdefault(token, []).append(message)
            reply["interaction"]["response_message_id"] = message["id"]
            reply["resource"] = {"type": kind, "message": message}
        return _json(reply)

    def _followup(self, token: str, *, body: Any = None, files: Any = None) -> web.Response:
        message = self._message(self._token_channels.get(token, 0), body)
        self.interaction_responses.setdefault(token, []).append(message)
        return _json(message)

    def _edit_original(self, token: str, *, body: Any = None, files: Any = None) -> web.Response:
        message = self._message(self._token_channels.get(token, 0), body)
        self.interaction_responses.setdefault(token, []).append(message)
        return _json(message)

    # channels and messages

    def _get_channel(self, channel_id: int, *, body: Any = None, files: Any = None) -> web.Response:
        if channel_id not in self.channels:
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        return _json(self.channels[channel_id])

    def _edit_channel(
        self, channel_id: int, *, body: Any = None, files: Any = None
    ) -> web.Response:
        channel = self.channels.get(channel_id)
        if channel is None:
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        if "available_tags" in body:
            if not self.bot_can_manage_channels:
                return _json({"message": "Missing Permissions", "code": 50013}, 403)
            channel["available_tags"] = [
                self._tag(tag["name"], int(tag["id"]) if tag.get("id") else None)
                | {"moderated": bool(tag.get("moderated"))}
                for tag in body["available_tags"]
            ]
        if "archived" in body and "thread_metadata" in channel:
            channel["thread_metadata"]["archived"] = bool(body["archived"])
        self.gateway(
            "channel_update" if channel["type"] not in (11, 12) else "thread_update", channel
        )
        return _json(channel)

    def _create_message(
        self, channel_id: int, *, body: Any = None, files: Any = None
    ) -> web.Response:
        if channel_id not in self.channels and channel_id not in self._dms.values():
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        nonce = body.get("nonce")
        if nonce and body.get("enforce_nonce"):
            for message in self.messages.values():
                if message["channel_id"] == str(channel_id) and message["nonce"] == nonce:
                    return _json(message)  # Discord returns the first message again
        message = self._message(channel_id, body)
        self.messages[int(message["id"])] = message
        return _json(message)

    def _edit_message(
        self, channel_id: int, message_id: int, *, body: Any = None, files: Any = None
    ) -> web.Response:
        message = self.messages.get(message_id)
        if message is None or message["channel_id"] != str(channel_id):
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        thread = self.channels.get(channel_id, {})
        if thread.get("thread_metadata", {}).get("archived"):
            return _json({"message": "Thread is archived", "code": 50083}, 400)
        for key in ("content", "embeds", "components", "allowed_mentions"):
            if key in body:
                message[key] = (
                    body[key] if body[key] is not None else ([] if key != "content" else "")
                )
        message["edited_timestamp"] = _NOW
        message["edits"] = message.get("edits", 0) + 1
        return _json(message)

    def _thread(
        self, thread_id: int, parent_id: int, name: str, kind: int, **extra: Any
    ) -> dict[str, Any]:
        thread = {
            "id": str(thread_id),
            "type": kind,
            "guild_id": str(GUILD_ID),
            "parent_id": str(parent_id),
            "owner_id": str(BOT_ID),
            "name": name,
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 10080,
                "archive_timestamp": _NOW,
                "locked": False,
                "invitable": kind == 11,
                "create_timestamp": _NOW,
            },
            **extra,
        }
        self.channels[thread_id] = thread
        self.thread_members[thread_id] = {BOT_ID}
        self.gateway("thread_create", {**thread, "newly_created": True})
        return thread

    def _thread_from_message(
        self, channel_id: int, message_id: int, *, body: Any = None, files: Any = None
    ) -> web.Response:
        if message_id in self.channels:
            return _json(
                {"message": "A thread has already been created for this message", "code": 160004},
                400,
            )
        if len(body.get("name") or "") > 100:
            return _json({"message": "Invalid Form Body", "code": 50035}, 400)
        return _json(self._thread(message_id, channel_id, body["name"], 11))

    def _create_thread(
        self, channel_id: int, *, body: Any = None, files: Any = None
    ) -> web.Response:
        parent = self.channels.get(channel_id)
        if parent is None:
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        if len(body.get("name") or "") > 100:
            return _json({"message": "Invalid Form Body", "code": 50035}, 400)
        thread_id = self.next_id()
        if parent["type"] == 15:
            tag_ids = {tag["id"] for tag in parent["available_tags"]}
            applied = body.get("applied_tags") or []
            if len(applied) > 5 or not set(applied) <= tag_ids:
                return _json({"message": "Invalid Form Body", "code": 50035}, 400)
            if parent["flags"] & (1 << 4) and not applied:
                return _json({"message": "A tag is required", "code": 40067}, 400)
            thread = self._thread(thread_id, channel_id, body["name"], 11, applied_tags=applied)
            message = self._message(thread_id, body.get("message") or {}, id=thread_id)
            self.messages[thread_id] = message
            return _json({**thread, "message": message})
        thread = self._thread(thread_id, channel_id, body["name"], int(body.get("type") or 11))
        return _json(thread)

    def _add_member(
        self, thread_id: int, user_id: int, *, body: Any = None, files: Any = None
    ) -> web.Response:
        self.thread_members.setdefault(thread_id, set()).add(user_id)
        return web.Response(status=204)

    def _active_threads(self, *, body: Any = None, files: Any = None) -> web.Response:
        threads = [
            c for c in self.channels.values()
            if c["type"] in (11, 12) and not c["thread_metadata"]["archived"]
        ]  # fmt: skip
        return _json({"threads": threads, "members": []})

    def _dm(self, *, body: Any = None, files: Any = None) -> web.Response:
        user_id = int(body["recipient_id"])
        channel_id = self._dms.setdefault(user_id, self.next_id())
        person = Person(user_id, f"user{user_id}")
        return _json({"id": str(channel_id), "type": 1, "recipients": [person.user()],
                      "last_message_id": None})  # fmt: skip

    # ---- what members do -------------------------------------------------------------------

    def _interaction(
        self, kind: int, data: dict[str, Any], who: Person, channel_id: int | None, **extra: Any
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(self.next_id()),
            "application_id": str(APP_ID),
            "type": kind,
            "token": f"itok{self.next_id()}",
            "version": 1,
            "data": data,
            "locale": "en-US",
            "app_permissions": str(MEMBER_PERMISSIONS),
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "attachment_size_limit": 10 * 1024 * 1024,
            **extra,
        }
        if channel_id is None:  # a direct message
            payload["context"] = 1
            payload["user"] = who.user()
            dm = self._dms.setdefault(who.id, self.next_id())
            payload["channel"] = {"id": str(dm), "type": 1, "recipients": [who.user()]}
            payload["channel_id"] = str(dm)
        else:
            payload["context"] = 0
            payload["guild_id"] = str(GUILD_ID)
            payload["guild"] = {"id": str(GUILD_ID), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["member"] = who.member()
            payload["channel"] = dict(self.channels[channel_id])
            payload["channel_id"] = str(channel_id)
        self._token_channels[payload["token"]] = int(payload["channel_id"])
        return payload

    def slash(
        self, line: str, *, as_: Person = ADA, in_: int | None = None, **values: Any
    ) -> dict[str, Any]:
        """Build the interaction Discord sends for a slash command, from the synced commands."""
        words = line.lstrip("/").split()
        command = next((c for c in self.commands if c["name"] == words[0]), None)
        if command is None:
            raise AssertionError(
                f"/{words[0]} was never synced: {[c['name'] for c in self.commands]}"
            )
        resolved: dict[str, dict[str, Any]] = {}
        node, chain = command, []
        for word in words[1:]:
            node = next(
                o for o in node.get("options", []) if o["name"] == word and o["type"] in (1, 2)
            )
            chain.append(node)
        options = []
        for name, value in values.items():
            spec = next(o for o in node.get("options", []) if o["name"] == name)
            if isinstance(value, Person):
                resolved.setdefault("users", {})[str(value.id)] = value.user()
                resolved.setdefault("members", {})[str(value.id)] = value.member(with_user=False)
                value = str(value.id)
            elif spec["type"] == 7:
                target = self.channels[int(value)]
                resolved.setdefault("channels", {})[str(value)] = {
                    **target, "permissions": str(MEMBER_PERMISSIONS)}  # fmt: skip
                value = str(value)
            options.append({"name": name, "type": spec["type"], "value": value})
        for sub in reversed(chain):
            options = [{"name": sub["name"], "type": sub["type"], "options": options}]
        data = {"id": command["id"], "name": command["name"], "type": 1, "options": options}
        if resolved:
            data["resolved"] = resolved
        return self._interaction(2, data, as_, in_)

    def press(
        self, message: dict[str, Any], custom_id: str, *, as_: Person = ADA, in_dm: bool = False
    ) -> dict[str, Any]:
        """Build the interaction for pressing a button on a message."""
        channel = None if in_dm else int(message["channel_id"])
        if channel is not None and channel not in self.channels:
            channel = None
        data = {"custom_id": custom_id, "component_type": 2}
        return self._interaction(3, data, as_, channel, message=message)

    def submit(
        self,
        custom_id: str,
        values: dict[str, str | list[str]],
        *,
        as_: Person = ADA,
        in_: int | None = None,
    ) -> dict[str, Any]:
        """Build the interaction for submitting a modal (labelled inputs, as Discord sends them)."""
        components = []
        for name, value in values.items():
            if isinstance(value, list):
                inner: dict[str, Any] = {"type": 3, "custom_id": name, "values": value}
            else:
                inner = {"type": 4, "custom_id": name, "value": value}
            components.append({"type": 18, "id": len(components) + 1, "component": inner})
        data = {"custom_id": custom_id, "components": components}
        return self._interaction(5, data, as_, in_)

    def member_says(
        self, thread_id: int, who: Person, *, message_id: int | None = None, kind: int = 0
    ) -> int:
        """Send MESSAGE_CREATE for a member writing in a channel or thread; return its id."""
        message_id = message_id or self.next_id()
        message = self._message(
            thread_id, {"content": "a reply"}, author=who, id=message_id, type=kind
        )
        message["member"] = who.member(with_user=False)
        message["guild_id"] = str(GUILD_ID)
        self.gateway("message_create", message)
        return message_id

    def remove_from_guild(self) -> None:
        """Send GUILD_DELETE: the bot was kicked or the guild deleted."""
        self.gateway("guild_delete", {"id": str(GUILD_ID)})

    async def interact(self, client: discord.Client, payload: dict[str, Any]) -> None:
        """Hand an interaction to a client, as the gateway would, and wait until it is handled."""
        client._connection.parse_interaction_create(payload)
        await self.settle()

    # ---- what the tests read ---------------------------------------------------------------

    def sent(self, method: str, path: str) -> list[Request]:
        """Return the requests matching a method and a path pattern."""
        return [r for r in self.requests if r.method == method and re.search(path, r.path)]

    def answers(self, payload: dict[str, Any]) -> list[Request]:
        """Return every request that answered one interaction (callback, follow-ups, edits)."""
        token = payload["token"]
        return [r for r in self.requests if f"/{token}" in r.path]

    def in_channel(self, channel_id: int) -> list[dict[str, Any]]:
        """Return the messages in a channel or thread, oldest first."""
        return [m for m in self.messages.values() if m["channel_id"] == str(channel_id)]

    def dm_channel(self, user_id: int) -> int | None:
        """Return the DM channel opened with a user."""
        return self._dms.get(user_id)


# ---- a running crowdmentor on the fake -------------------------------------------------------


@dataclass
class World:
    """crowdmentor's app and Discord adapter, connected to a fake Discord."""

    app: Any
    adapter: Any
    fake: FakeDiscord
    general: int
    forum: int

    @property
    def client(self) -> discord.Client:
        """Return the adapter's discord.py client."""
        return self.adapter.client

    async def slash(
        self, line: str, *, as_: Person = ADA, in_: int | None = None, **values: Any
    ) -> dict[str, Any]:
        """Run a slash command in a channel (default: #general); return its interaction."""
        payload = self.fake.slash(line, as_=as_, in_=in_ or self.general, **values)
        await self.fake.interact(self.client, payload)
        return payload

    async def press(
        self, message: dict[str, Any], custom_id: str, *, as_: Person = ADA, in_dm: bool = False
    ) -> dict[str, Any]:
        """Press a button on a message; return the interaction."""
        payload = self.fake.press(message, custom_id, as_=as_, in_dm=in_dm)
        await self.fake.interact(self.client, payload)
        return payload

    async def submit(
        self, custom_id: str, values: dict[str, Any], *, as_: Person = ADA
    ) -> dict[str, Any]:
        """Submit a modal; return the interaction."""
        payload = self.fake.submit(custom_id, values, as_=as_, in_=self.general)
        await self.fake.interact(self.client, payload)
        return payload

    async def deliver(self) -> int:
        """Deliver everything the outbox holds (what the worker does in the background)."""
        return await self.app.delivery.drain()


@contextlib.asynccontextmanager
async def discord_world(
    settings: Any, *, fake: FakeDiscord | None = None, registry: Any = None
) -> Any:
    """Run crowdmentor's app with the Discord adapter against a fake Discord."""
    from bot.adapters.discord import DiscordAdapter
    from bot.app import App
    from bot.clock import Clock

    fake = fake or FakeDiscord()
    general = next((c for c, d in fake.channels.items() if d["name"] == "general"), None)
    general = general or fake.add_channel("general")
    forum = next((c for c, d in fake.channels.items() if d["type"] == 15), None)
    forum = forum or fake.add_forum("questions", ("Career", "python"))
    await fake.start()
    try:
        app = App(settings, clock=Clock(), registry=registry)
        adapter = DiscordAdapter(app)
        adapter.channel_interval = 0.0  # the tests check order, not pacing
        app.add_adapter(adapter)
        async with app.running(background=False):
            await fake.connect(adapter.client)
            yield World(app, adapter, fake, general, forum)
            await fake.settle()
    finally:
        await fake.close()


@contextlib.asynccontextmanager
async def restarted(world: World, settings: Any, *, registry: Any = None) -> Any:
    """Start a second crowdmentor process on the same database and fake Discord."""
    from bot.adapters.discord import DiscordAdapter
    from bot.app import App
    from bot.clock import Clock

    app = App(settings, clock=Clock(), registry=registry or world.app.registry)
    adapter = DiscordAdapter(app)
    adapter.channel_interval = 0.0
    app.add_adapter(adapter)
    async with app.running(background=False):
        await world.fake.connect(adapter.client)
        yield World(app, adapter, world.fake, world.general, world.forum)
        await world.fake.settle()
