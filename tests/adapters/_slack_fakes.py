"""A fake Slack for tests: a Web API on 127.0.0.1, and a workspace that sends signed requests.

`FakeSlackAPI` answers the Web API methods the adapter uses, records every call, and can be
told to fail a method (HTTP 429 with Retry-After, or a Slack error code). `FakeWorkspace` sends
slash commands, button presses, modal submissions and events to the adapter over real HTTP,
signed the way Slack signs them (v0 HMAC-SHA256 of `v0:{timestamp}:{body}`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web

TEAM_ID = "T0001"
TEAM_NAME = "Test Team"
BOT_USER_ID = "UBOT0001"
BOT_ID = "BBOT0001"
SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-SENTINEL-0001"
APP_TOKEN = "xapp-SENTINEL"


@dataclass
class Call:
    """One Web API call as the fake received it."""

    method: str
    params: dict[str, Any]
    token: str | None
    at: float


@dataclass
class Failure:
    """A planned failure of one method."""

    status: int = 429
    error: str = "ratelimited"
    retry_after: int | None = 1


@dataclass
class FailureWindow:
    """Slack unwell for a while: every call fails with `status` until `until` (monotonic).

    Methods in `handled` are carried out before the error is answered (a post that reached the
    channel although its answer was a 500). `failed` records every call answered with the error.
    """

    status: int = 503
    error: str = "service_unavailable"
    retry_after: int | None = None
    handled: frozenset[str] = frozenset()
    until: float = 0.0
    failed: list[Call] = field(default_factory=list)

    def covers(self, now: float) -> bool:
        return now < self.until

    def answer(self) -> web.Response:
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after else {}
        return web.json_response(
            {"ok": False, "error": self.error}, status=self.status, headers=headers
        )


@dataclass
class FakeSlackAPI:
    """The Slack Web API, as far as crowdmentor uses it."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # posts to response_url
    uploads: list[bytes] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(
        default_factory=dict
    )  # channel -> oldest first
    delays: dict[str, float] = field(default_factory=dict)
    socket_frames: list[dict[str, Any]] = field(default_factory=list)
    oauth_grants: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> response
    windows: list[FailureWindow] = field(default_factory=list)  # outages (fail_while)
    holds: dict[str, int] = field(default_factory=dict)  # method -> answers before holding
    held: list[Call] = field(default_factory=list)  # done, answers kept back (since hold_after)
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    _port: int = 0
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _socket_ready: asyncio.Event = field(default_factory=asyncio.Event)

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> FakeSlackAPI:
        application = web.Application()
        application.router.add_route("*", "/api/{method}", self._api)
        application.router.add_post("/response/{name}", self._response)
        application.router.add_post("/upload/{file}", self._upload)
        application.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(application, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        self.release()
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self) -> str:
        return f"{self.base}/response/{uuid.uuid4().hex[:8]}"

    # ---- what tests ask -----------------------------------------------------------------------

    def fail(self, method: str, *failures: Failure) -> None:
        self.failures.setdefault(method, []).extend(failures)

    def fail_while(self, window: FailureWindow, seconds: float) -> FailureWindow:
        """Fail every Web API call as `window` says for the next `seconds`."""
        window.until = time.monotonic() + seconds
        self.windows.append(window)
        return window

    def hold_after(self, method: str, answered: int) -> None:
        """Do every later call of `method` but keep its answer back until `release()`.

        The caller sees a request that never returns although Slack acted on it: the moment a
        crash hurts most (the message exists, the sender never learns its ts).
        """
        self._released.clear()
        self.held.clear()
        self.holds[method] = answered

    def release(self) -> None:
        self.holds.clear()
        self._released.set()

    def called(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        return [
            message
            for ch, messages in self.messages.items()
            if channel is None or ch == channel
            for message in messages
        ]

    async def wait_for(self, condition: Callable[[], Any], within: float = 10.0) -> Any:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if value := condition():
                return value
            await asyncio.sleep(0.01)
        raise AssertionError(f"timed out waiting for {condition}")

    # ---- the Web API ---------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            raw = await request.read()
            if request.content_type == "application/json":
                params.update(json.loads(raw or b"{}"))
            else:
                params.update(parse_qsl(raw.decode()))
        for name in ("metadata", "blocks", "view"):
            if isinstance(params.get(name), str):
                params[name] = json.loads(params[name])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") or params.get("token")
        self.calls.append(Call(method, params, token, time.monotonic()))
        if delay := self.delays.get(method):
            await asyncio.sleep(delay)
        window = next((w for w in self.windows if w.covers(time.monotonic())), None)
        if window is not None:
            window.failed.append(self.calls[-1])
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            if method in window.handled and handler is not None:
                handler(params)
            return window.answer()
        planned = self.failures.get(method)
        if planned:
            failure = planned.pop(0)
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return web.json_response(
                {"ok": False, "error": failure.error}, status=failure.status, headers=headers
            )
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        answer = {"ok": True, **(handler(params) if handler else {})}
        if method in self.holds:
            if self.holds[method] > 0:
                self.holds[method] -= 1
            else:
                self.held.append(self.calls[-1])
                await self._released.wait()
        return web.json_response(answer)

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://test.slack.com/",
            "team": TEAM_NAME,
            "team_id": TEAM_ID,
            "user": "crowdmentor",
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
        }

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        message = {"ts": ts, **params, "user": BOT_USER_ID, "bot_id": BOT_ID}
        self.messages.setdefault(params["channel"], []).append(message)
        return {"channel": params["channel"], "ts": ts, "message": message}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        for message in self.messages.get(params["channel"], []):
            if message["ts"] == params["ts"]:
                message.update(params)
        return {"channel": params["channel"], "ts": params["ts"]}

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": self._next_ts()}

    def _chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"permalink": f"https://test.slack.com/archives/{params['channel']}/p1"}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"view": {"id": "V0001", **params["view"]}}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"view": {"id": "V0002", **params["view"]}}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params["users"]).split(",")
        prefix = "D" if len(users) == 1 else "G"
        digest = hashlib.sha1(",".join(sorted(users)).encode()).hexdigest()[:8].upper()
        return {"channel": {"id": f"{prefix}{digest}"}}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        messages = [m for m in self.messages.get(params["channel"], []) if "thread_ts" not in m]
        return {"messages": _with_metadata_if_asked(list(reversed(messages)), params)}

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        thread = params["ts"]
        messages = [
            m
            for m in self.messages.get(params["channel"], [])
            if m.get("thread_ts") == thread or m["ts"] == thread
        ]
        return {"messages": _with_metadata_if_asked(messages, params)}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params["user"]
        default = {
            "id": user_id,
            "name": user_id.lower(),
            "real_name": f"Person {user_id}",
            "tz": "Europe/Berlin",
            "profile": {"display_name": f"person-{user_id.lower()}"},
        }
        return {"user": self.users.get(user_id, default)}

    def _files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"upload_url": f"{self.base}/upload/F0001", "file_id": "F0001"}

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"files": [{"id": "F0001", "title": "export"}]}

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"ws://127.0.0.1:{self._port}/socket"}

    def _oauth_v2_access(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.oauth_grants[params["code"]]

    async def _response(self, request: web.Request) -> web.Response:
        self.responses.append({"url": str(request.url), **json.loads(await request.read())})
        if delay := self.delays.get("response_url"):
            await asyncio.sleep(delay)
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads.append(await request.read())
        return web.Response(text="OK - 1")

    # ---- Socket Mode ---------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1})
        self._socket_ready.set()
        async for frame in socket:
            if frame.type == aiohttp.WSMsgType.TEXT:
                self.socket_frames.append(json.loads(frame.data))
        return socket

    async def send_socket(self, envelope: dict[str, Any]) -> None:
        await asyncio.wait_for(self._socket_ready.wait(), 10)
        await self._sockets[-1].send_json(envelope)


def _with_metadata_if_asked(
    messages: list[dict[str, Any]], params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Leave message metadata out unless `include_all_metadata` asks for it, as Slack does."""
    if str(params.get("include_all_metadata", "")).lower() in ("1", "true"):
        return messages
    return [{k: v for k, v in m.items() if k != "metadata"} for m in messages]


def sign(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    """Sign a request body the way Slack does."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class FakeWorkspace:
    """Sends what a Slack workspace sends to the app's request URL."""

    events_url: str
    api: FakeSlackAPI
    team_id: str = TEAM_ID
    secret: str = SIGNING_SECRET
    session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def send(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        if self.session is None:
            self.session = aiohttp.ClientSession()
        timestamp = int(time.time()) if timestamp is None else timestamp
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature or sign(body, timestamp, self.secret),
            **(headers or {}),
        }
        async with self.session.post(self.events_url, data=body, headers=all_headers) as response:
            return response.status, await response.text()

    def command_body(
        self,
        command: str,
        text: str = "",
        *,
        user: str = "U0ADA",
        channel: str = "C0GENERAL",
        channel_name: str = "general",
        trigger_id: str = "trigger-1",
    ) -> str:
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": self.team_id,
                "team_domain": "test",
                "channel_id": channel,
                "channel_name": channel_name,
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text,
                "api_app_id": "A0001",
                "response_url": self.api.response_url(),
                "trigger_id": trigger_id,
            }
        )

    async def command(self, command: str, text: str = "", **kwargs: Any) -> tuple[int, str]:
        body = self.command_body(command, text, **kwargs)
        return await self.send(body, "application/x-www-form-urlencoded")

    async def interaction(self, payload: dict[str, Any]) -> tuple[int, str]:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.send(body, "application/x-www-form-urlencoded")

    async def press(
        self,
        action_id: str,
        value: str,
        *,
        user: str = "U0ADA",
        channel: str = "C0GENERAL",
        message_ts: str = "1700000000.000001",
        ephemeral: bool = False,
    ) -> tuple[int, str]:
        return await self.interaction(
            {
                "type": "block_actions",
                "team": {"id": self.team_id, "domain": "test"},
                "user": {"id": user, "username": user.lower(), "team_id": self.team_id},
                "api_app_id": "A0001",
                "trigger_id": "trigger-2",
                "channel": {"id": channel, "name": "general"},
                "container": {
                    "type": "message",
                    "message_ts": message_ts,
                    "channel_id": channel,
                    "is_ephemeral": ephemeral,
                },
                "message": {"ts": message_ts, "type": "message"},
                "response_url": self.api.response_url(),
                "actions": [
                    {
                        "type": "button",
                        "action_id": action_id,
                        "block_id": "b1",
                        "value": value,
                        "action_ts": "1700000001.000000",
                    }
                ],
            }
        )

    async def submit_view(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        private_metadata: str,
        *,
        user: str = "U0ADA",
    ) -> tuple[int, str]:
        return await self.interaction(
            {
                "type": "view_submission",
                "team": {"id": self.team_id, "domain": "test"},
                "user": {"id": user, "username": user.lower(), "team_id": self.team_id},
                "api_app_id": "A0001",
                "trigger_id": "trigger-3",
                "view": {
                    "id": "V0001",
                    "type": "modal",
                    "callback_id": callback_id,
                    "private_metadata": private_metadata,
                    "state": {"values": values},
                },
            }
        )

    def event_body(self, event: dict[str, Any], event_id: str | None = None) -> str:
        return json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": self.team_id,
                "api_app_id": "A0001",
                "type": "event_callback",
                "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
                "event_time": int(time.time()),
                "authorizations": [
                    {"team_id": self.team_id, "user_id": BOT_USER_ID, "is_bot": True}
                ],
                "event": event,
            }
        )

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> tuple[int, str]:
        headers = {}
        if retry:
            headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.send(
            self.event_body(event, event_id), "application/json", headers=headers
        )


@dataclass
class SlackHarness:
    """A started App with the Slack adapter in HTTP mode, the fake API and a fake workspace."""

    app: Any
    adapter: Any
    api: FakeSlackAPI
    workspace: FakeWorkspace

    async def deliver(self) -> int:
        return await self.app.delivery.drain()

    async def settle(self, kind: str, count: int, within: float = 10.0) -> None:
        """Wait until the adapter has finished `count` listener runs of `kind`."""
        await self.api.wait_for(lambda: self.adapter.handled[kind] >= count, within)


@contextlib.asynccontextmanager
async def slack_harness(settings: Any, **overrides: Any) -> AsyncIterator[SlackHarness]:
    """Run crowdmentor with its Slack adapter against the fake API, on an ephemeral port."""
    from pydantic import SecretStr

    from bot.adapters.slack import SlackAdapter
    from bot.app import App
    from bot.clock import Clock

    api = await FakeSlackAPI().start()
    configured = settings.model_copy(
        update={
            "slack_bot_token": SecretStr(BOT_TOKEN),
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_api_url": api.api_url,
            **overrides,
        }
    )
    app = App(configured, clock=Clock())
    adapter = SlackAdapter(app, http=True, port=0, host="127.0.0.1")
    app.add_adapter(adapter)
    workspace: FakeWorkspace | None = None
    try:
        async with app.running(background=False):
            serving = asyncio.create_task(adapter.serve())
            try:
                await asyncio.wait_for(adapter.ready.wait(), 10)
                events_url = f"http://127.0.0.1:{adapter.bound_port}/slack/events"
                workspace = FakeWorkspace(events_url, api)
                yield SlackHarness(app, adapter, api, workspace)
            finally:
                serving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await serving
                if workspace is not None:
                    await workspace.close()
    finally:
        await api.stop()


@dataclass
class SocketModeSlack:
    """A started App with the Slack adapter in Socket Mode, connected to the fake API."""

    app: Any
    adapter: Any
    api: FakeSlackAPI


@contextlib.asynccontextmanager
async def socket_mode_slack(settings: Any) -> AsyncIterator[SocketModeSlack]:
    """Run crowdmentor with its Slack adapter in Socket Mode against the fake API."""
    from pydantic import SecretStr

    from bot.adapters.slack import SlackAdapter
    from bot.app import App

    api = await FakeSlackAPI().start()
    configured = settings.model_copy(
        update={
            "slack_bot_token": SecretStr(BOT_TOKEN),
            "slack_app_token": SecretStr(APP_TOKEN),
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_api_url": api.api_url,
        }
    )
    app = App(configured)
    adapter = SlackAdapter(app)
    app.add_adapter(adapter)
    try:
        async with app.running(background=False):
            serving = asyncio.create_task(adapter.serve())
            try:
                await asyncio.wait_for(adapter.ready.wait(), 10)
                yield SocketModeSlack(app, adapter, api)
            finally:
                serving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await serving
    finally:
        await api.stop()
