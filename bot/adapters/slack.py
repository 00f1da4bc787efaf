"""The Slack adapter: slash commands, buttons, modals, thread replies, App Home and delivery.

Built on slack-bolt (async). Every listener acknowledges first and works afterwards, because
Slack shows an error after 3 seconds without an ack, and because Bolt discards an ack whose
listener later raises; everything after the ack is therefore caught and logged. The slash
commands are generated from the registry, so a new command needs no code here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import Counter
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import ClientError, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.base import Delivered, Delivery, DeliveryError, DeliveryKind
from bot.adapters.slack_inbound import (
    PLATFORM,
    UserDirectory,
    field_object,
    field_text,
    invocation_from_command,
    is_thread_reply,
    press_from_action,
    submission_from_view,
    team_of,
    thread_message_from_event,
    unescape_text,
    view_metadata,
)
from bot.adapters.slack_render import home_view, message_payload, modal_view
from bot.adapters.slack_shape import has_slack_shape, is_ssl_check, readable
from bot.app import App
from bot.events import Actor, Community, Invocation, Place, PlaceKind
from bot.replies import Attachment, Bold, Code, Form, Reply, Section, Visibility, rich

if TYPE_CHECKING:
    from bot.adapters.slack_oauth import SlackOAuth

log = logging.getLogger(__name__)

# chat.postMessage allows about one message per second per channel (short bursts are tolerated).
# Source: https://docs.slack.dev/reference/methods/chat.postMessage#rate_limiting and
# https://docs.slack.dev/apis/web-api/rate-limits ("Posting messages: generally allows 1 message
# per second per channel, with short bursts above this limit permitted").
CHANNEL_INTERVAL_SECONDS = 1.0

# conversations.open makes a group conversation of at most 8 people ("too_many_users").
# Source: https://docs.slack.dev/reference/methods/conversations.open
GROUP_MEMBERS_MAX = 8

# How far back a retried delivery looks for a copy an earlier attempt may already have posted.
# conversations.history returns at most 999 per page; 100 is its recommended page size.
# Source: https://docs.slack.dev/reference/methods/conversations.history
RETRY_LOOKBACK_MESSAGES = 100

# Our outbox key travels in message metadata, so a retry can find what an earlier attempt posted.
# Source: https://docs.slack.dev/messaging/message-metadata
METADATA_EVENT_TYPE = "crowdmentor_outbox"

# Errors that a retry cannot fix: the row is marked failed at once.
# Source: the "Errors" table of each method, e.g. https://docs.slack.dev/reference/methods/chat.postMessage
PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "cant_update_message",
        "channel_not_found",
        "edit_window_closed",
        "invalid_auth",
        "invalid_blocks",
        "is_archived",
        "method_not_supported_for_channel_type",
        "message_not_found",
        "msg_too_long",
        "no_text",
        "not_authed",
        "not_enough_users",
        "not_in_channel",
        "restricted_action",
        "token_revoked",
        "too_many_users",
        "user_not_found",
    }
)

# Errors Slack answers while it is unwell; the same call may succeed a moment later.
# Source: the "Errors" table of each method, e.g. https://docs.slack.dev/reference/methods/chat.postMessage
TRANSIENT_ERRORS = frozenset(
    {"fatal_error", "internal_error", "ratelimited", "request_timeout", "service_unavailable"}
)

# Slack may open many connections at once (a busy workspace, retries): a short listen backlog
# drops connection attempts, and the client only tries again after a second.
HTTP_LISTEN_BACKLOG = 1024

# A trigger_id can open a modal for 3 seconds after the interaction that carried it.
# Source: https://docs.slack.dev/surfaces/modals ("trigger_id ... expires in 3 seconds")
TRIGGER_LIFETIME_SECONDS = 3.0

# How many listeners may work after their ack at once; the rest wait their turn. The database
# serialises most of this work anyway, and fewer runners leave the event loop free to ack.
WORK_AFTER_ACK_CONCURRENCY = 4
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

# What a member's App Home shows, in order: the same commands they can type anywhere.
HOME_PAGE_COMMANDS = (
    ("crowdmentor", "profile"),
    ("pair", "status"),
    ("crowdmentor", "questions mine"),
)
HOME_INTRO = rich(
    Bold("Your crowdmentor page"),
    "\nAsk the community with ",
    Code("/ask"),
    "; see everything you can do with ",
    Code("/crowdmentor help"),
    ".",
)


# Wait out a Retry-After this short inside the call; a longer one goes back to the outbox, which
# retries the message then, so one rate-limited channel never holds up every other delivery.
# Slack sends Retry-After in whole seconds. Source: https://docs.slack.dev/apis/web-api/rate-limits
MAX_RATELIMIT_WAIT_SECONDS = 2.0

# Errors that mean "this history cannot be read" (scopes, membership), not "try again later":
# only after these may a retry post without having looked for its earlier copy.
# Source: https://docs.slack.dev/reference/methods/conversations.history ("Errors")
HISTORY_UNREADABLE_ERRORS = frozenset(
    {"channel_not_found", "missing_scope", "not_allowed_token_type", "not_in_channel"}
)


BOLT_LOGGER = "bot.adapters.slack.bolt"


class _SkipClientTokenNotice(logging.Filter):
    """Drop Bolt's start-up warning that SLACK_BOT_TOKEN is unused beside our own client."""

    # Bolt reads SLACK_BOT_TOKEN from the environment by itself and warns that the client we
    # hand it (built from that same token) wins; with the variable set, as it must be, every
    # start logged a warning that asked nothing of the operator.
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def _bolt_logger() -> logging.Logger:
    logger = logging.getLogger(BOLT_LOGGER)
    if not any(isinstance(f, _SkipClientTokenNotice) for f in logger.filters):
        logger.addFilter(_SkipClientTokenNotice())
    return logger


SORRY_TEXT = "Sorry, something went wrong on my side. Please try again in a moment."
UNREADABLE_TEXT = (
    "Sorry, I couldn't tell who sent that or from which workspace, so nothing was changed. "
    "Please try again from Slack."
)


class SlackConfigurationError(RuntimeError):
    """Slack is configured in a way that cannot work (said plainly, without any secret)."""


class ShortRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Retry a 429 in place only when its Retry-After is short; else the caller reschedules."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = _header(response.headers, "retry-after")
        return wait is not None and wait.isdigit() and float(wait) <= MAX_RATELIMIT_WAIT_SECONDS


def retry_handlers() -> list[Any]:
    """Return the Web API retry handlers: connection errors and short 429s."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ShortRateLimitRetryHandler(max_retry_count=1),
    ]


def is_transient(error: SlackApiError) -> bool:
    """Tell whether Slack failed for now (rate limit, server error) rather than for good."""
    status = error.response.status_code
    code = str(error.response.get("error") or "")
    return status == 429 or status >= 500 or code in TRANSIENT_ERRORS


def _header(headers: Any, name: str) -> str | None:
    for key in headers or {}:
        if key.lower() == name:
            value = headers[key]
            return str(value[0] if isinstance(value, list | tuple) else value)
    return None


def delivery_error(error: SlackApiError, what: str) -> DeliveryError:
    """Map a Web API error to a DeliveryError the worker understands."""
    code = str(error.response.get("error") or "")
    if error.response.status_code == 429 or code == "ratelimited":
        retry_after = _header(error.response.headers, "retry-after")
        seconds = float(retry_after) if retry_after and retry_after.isdigit() else 1.0
        return DeliveryError(f"{what}: rate limited", retry_after=seconds)
    return DeliveryError(
        f"{what}: {code or error.response.status_code}", permanent=code in PERMANENT_ERRORS
    )


async def refuse_before_bolt(
    request: web.Request, verifier: SignatureVerifier
) -> web.Response | None:
    """Answer the requests Bolt cannot read: unsigned or badly signed (401), or malformed (400).

    Bolt raises on a non-numeric timestamp, a body that is not UTF-8 or not a JSON object,
    which became a 500 and a logged traceback instead of a refusal.
    """
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    raw = await request.read()
    if is_ssl_check(raw):
        return None  # Bolt answers Slack's certificate check itself, and it stores nothing
    if not signature or not (timestamp.isascii() and timestamp.isdigit()):
        return web.Response(status=401, text="invalid request")
    if not verifier.is_valid(raw, timestamp, signature):
        return web.Response(status=401, text="invalid request")
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return web.Response(status=400, text="invalid request")
    if not readable(body, request.content_type):
        log.warning("ignored a signed request Slack never sends (%d bytes)", len(raw))
        return web.Response(status=400, text="invalid request")
    return None


def _form_metadata(command: dict[str, Any]) -> dict[str, str]:
    """Return what a form opened by a slash command must remember: where to post and answer."""
    return {
        "channel": field_text(command.get("channel_id")),
        "channel_name": field_text(command.get("channel_name")),
        "response_url": field_text(command.get("response_url")),
    }


def _answer_type(visibility: Visibility) -> str:
    return "in_channel" if visibility in (Visibility.CHANNEL, Visibility.THREAD) else "ephemeral"


class SlackAdapter:
    """Serves one Slack app (one workspace with a bot token, or many through OAuth)."""

    platform = PLATFORM
    channel_interval = CHANNEL_INTERVAL_SECONDS

    def __init__(
        self,
        app: App,
        *,
        http: bool = False,
        port: int | None = None,
        host: str = "0.0.0.0",  # noqa: S104 - Slack must reach the events endpoint
    ) -> None:
        settings = app.settings
        self.app = app
        self.base_url = settings.slack_api_url
        self.host = host
        self.port = port if port is not None else settings.port
        self.bound_port: int | None = None
        self.ready = asyncio.Event()
        self.users = UserDirectory()
        self.team_names: dict[str, str] = {}
        # Listener runs finished, by kind (tests and operators can see the work after each ack).
        self.handled: Counter[str] = Counter()
        self._joined: set[tuple[str, str]] = set()
        self._work_slots = asyncio.Semaphore(WORK_AFTER_ACK_CONCURRENCY)
        app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
        self._app_token = app_token
        distributed = bool(settings.slack_client_id and settings.slack_client_secret)
        # OAuth installs need the HTTP endpoints, so distribution always serves HTTP.
        self.mode = "socket" if app_token and not http and not distributed else "http"
        signing = settings.slack_signing_secret
        self._signing_secret = signing.get_secret_value() if signing else ""
        self._verifier = SignatureVerifier(self._signing_secret)
        if self.mode == "http" and not self._signing_secret:
            raise SlackConfigurationError(
                "SLACK_SIGNING_SECRET is required in HTTP mode: without it nobody can tell "
                "Slack's requests from forged ones (set SLACK_APP_TOKEN for Socket Mode instead)"
            )
        self.oauth: SlackOAuth | None = None
        bot_token = (
            settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        )
        if distributed:
            from bot.adapters.slack_oauth import SlackOAuth

            self.oauth = SlackOAuth(app, base_url=self.base_url)
            bot_token = None
        elif not bot_token:
            raise SlackConfigurationError(
                "set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
                "(installable in many workspaces)"
            )
        self.client = AsyncWebClient(
            token=bot_token, base_url=self.base_url, retry_handlers=retry_handlers()
        )
        self.bolt = AsyncApp(
            name="crowdmentor",
            logger=_bolt_logger(),
            signing_secret=self._signing_secret,
            client=self.client,
            **(self.oauth.bolt_options() if self.oauth else {}),
        )
        self._register()

    # ---- listeners ---------------------------------------------------------------------------

    def _register(self) -> None:
        for root in self.app.registry.roots():
            self.bolt.command(f"/{root.name}")(self._on_command)
        self.bolt.action(re.compile(r".+"))(self._on_action)
        self.bolt.view_submission(re.compile(r".+"))(self._on_view_submission)
        self.bolt.view_closed(re.compile(r".+"))(self._on_view_closed)
        self.bolt.event("message")(self._on_message)
        self.bolt.event("app_home_opened")(self._on_home_opened)
        self.bolt.event("app_uninstalled")(self._on_uninstalled)
        self.bolt.event("tokens_revoked")(self._on_tokens_revoked)

    def community(self, team_id: str, fallback_name: str = "") -> Community:
        """Return the community of a workspace."""
        return Community(PLATFORM, team_id, self.team_names.get(team_id) or fallback_name)

    async def community_of(self, team_id: str, fallback_name: str = "") -> Community:
        """Return the community of a workspace, named as it was when it installed the app."""
        if self.oauth is not None and team_id not in self.team_names:
            self.team_names[team_id] = await self.oauth.team_name(team_id)
        return self.community(team_id, fallback_name)

    async def _actor(self, client: AsyncWebClient, team_id: str, user: Any) -> Actor | None:
        """Return who acted, or None when the payload names nobody (never a made-up id)."""
        if isinstance(user, dict):
            user_id = field_text(user.get("id"))
            name = field_text(user.get("name")) or field_text(user.get("username"))
        else:
            user_id, name = field_text(user), ""
        if not user_id or not team_id:
            log.warning("ignored a Slack request that names no person or workspace")
            return None
        return await self.users.actor(client, team_id, user_id, name)

    async def _after_ack(
        self, kind: str, work: Awaitable[None], respond: AsyncRespond | None = None
    ) -> None:
        """Do a listener's work after its ack: bounded, and never raising into Bolt."""
        try:
            # A burst of commands is acked first; the work behind the acks queues here, so
            # it cannot starve the event loop that is still acknowledging the rest.
            async with self._work_slots:
                await work
        except Exception:
            log.exception("%s failed after its ack", kind)
            await self._apologise(respond)
        finally:
            self.handled[kind] += 1

    async def _on_command(
        self, ack: Any, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        # Trigger-bound work first: a form opens now, ahead of the work queued behind the acks,
        # because its trigger_id dies 3 seconds after the command however long that queue is.
        form = self.app.dispatcher.form_first(
            field_text(body.get("command")).lstrip("/"), field_text(body.get("text"))
        )
        if form is not None and await self._open_form(client, body, form, _form_metadata(body)):
            self.handled["command"] += 1
            return
        await self._after_ack(
            "command", self._command(body, respond, client, forms=form is None), respond
        )

    async def _command(
        self,
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        *,
        forms: bool = True,
    ) -> None:
        """Run a slash command; `forms` is False once its trigger was spent or found dead."""
        team = team_of(body)
        actor = await self._actor(
            client, team, {"id": body.get("user_id"), "name": body.get("user_name")}
        )
        if actor is None:
            await self._apologise(respond, UNREADABLE_TEXT)
            return
        text = await self.users.name_mentions(
            client, team, unescape_text(field_text(body.get("text")))
        )
        community = await self.community_of(team, field_text(body.get("team_domain")))
        invocation = invocation_from_command(body, actor, community, text)
        reply = await self.app.dispatcher.dispatch(invocation)
        if (
            forms
            and reply.form is not None
            and await self._open_form(client, body, reply.form, _form_metadata(body))
        ):
            return
        await self._answer(
            reply, client, respond=respond, channel=invocation.place.channel_id, user=actor.user_id
        )

    async def _on_action(
        self,
        ack: Any,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        # A response_url that is not a string is not Slack's: nothing is sent to it.
        answer = respond if field_text(body.get("response_url")) else None
        await self._after_ack("action", self._action(body, action, answer, client), answer)

    async def _action(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: AsyncRespond | None,
        client: AsyncWebClient,
    ) -> None:
        team = team_of(body)
        actor = await self._actor(client, team, body.get("user"))
        if actor is None:
            await self._apologise(respond, UNREADABLE_TEXT)
            return
        pressed = press_from_action(
            body, field_object(action), actor, await self.community_of(team)
        )
        reply = await self.app.dispatcher.press(pressed.press)
        if reply.form is not None:
            metadata = {
                "channel": pressed.press.place.channel_id,
                "response_url": field_text(body.get("response_url")),
            }
            if await self._open_form(client, body, reply.form, metadata):
                return
        await self._answer(
            reply,
            client,
            respond=respond,
            channel=pressed.press.place.channel_id,
            user=actor.user_id,
            replace_original=pressed.ephemeral,
        )

    async def _on_view_submission(
        self, ack: Any, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()  # closes the modal; the answer follows as an ephemeral message
        metadata = view_metadata(field_object(body.get("view")))
        url = metadata.get("response_url")
        respond = AsyncRespond(response_url=url) if url else None
        await self._after_ack("view_submission", self._submission(body, respond, client), respond)

    async def _submission(
        self, body: dict[str, Any], respond: AsyncRespond | None, client: AsyncWebClient
    ) -> None:
        team = team_of(body)
        actor = await self._actor(client, team, body.get("user"))
        if actor is None:
            await self._apologise(respond, UNREADABLE_TEXT)
            return
        submission, _ = submission_from_view(body, actor, await self.community_of(team))
        reply = await self.app.dispatcher.submit(submission)
        await self._answer(
            reply, client, respond=respond, channel=submission.place.channel_id, user=actor.user_id
        )

    async def _on_view_closed(self, ack: Any) -> None:
        await ack()

    async def _on_message(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await self._after_ack("message", self._message(event, body, client))

    async def _message(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if not is_thread_reply(event):
            return
        team = team_of(body) or field_text(event.get("team"))
        actor = await self._actor(client, team, event.get("user"))
        if actor is None:
            return
        await self.app.dispatcher.message(
            thread_message_from_event(event, actor, await self.community_of(team))
        )

    async def _on_home_opened(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user_id, team = field_text(event.get("user")), team_of(body)
        if event.get("tab") in (None, "home") and user_id and team:
            work = self.publish_home(client, team, user_id, event)
            await self._after_ack("app_home_opened", work)

    async def publish_home(
        self, client: AsyncWebClient, team: str, user_id: str, event: dict[str, Any] | None = None
    ) -> None:
        """Show a member their own page: tags, pairing, questions, through the usual commands."""
        actor = await self.users.actor(client, team, user_id)
        channel = field_text((event or {}).get("channel"))
        community = await self.community_of(team)
        parts: list[Reply] = []
        for command, text in HOME_PAGE_COMMANDS:
            invocation = Invocation(
                command=command,
                text=text,
                actor=actor,
                community=community,
                place=Place(channel, None, PlaceKind.DIRECT),
            )
            parts.append(await self.app.dispatcher.dispatch(invocation))
        page = Reply(
            text=parts[0].text,
            sections=tuple(
                section
                for index, part in enumerate(parts)
                for section in ((Section(body=part.text),) if index else ()) + part.sections
            ),
            buttons=tuple(button for part in parts for button in part.buttons),
        )
        await client.views_publish(user_id=user_id, view=home_view(page, intro=HOME_INTRO))

    async def _on_uninstalled(self, body: dict[str, Any]) -> None:
        await self._remove(team_of(body))

    async def _on_tokens_revoked(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        try:
            # Only a revoked bot token ends the installation; user tokens are never held.
            if field_object(event.get("tokens")).get("bot"):
                await self._remove(team_of(body))
        finally:
            self.handled["tokens_revoked"] += 1

    async def _remove(self, team: str) -> None:
        try:
            if self.oauth is not None:
                await self.oauth.forget(team)
            await self.app.dispatcher.community_removed(self.community(team))
        except Exception:
            log.exception("could not schedule the removal of workspace %s", team)
        finally:
            self.handled["removed"] += 1

    # ---- answering -------------------------------------------------------------------------

    async def _open_form(
        self, client: AsyncWebClient, body: dict[str, Any], form: Form, metadata: dict[str, str]
    ) -> bool:
        trigger = field_text(body.get("trigger_id"))
        if not trigger:
            return False
        try:
            await client.views_open(trigger_id=trigger, view=modal_view(form, metadata))
        except SlackApiError as error:
            # The trigger lives 3 seconds; when it expired, the text explains the command instead.
            log.warning("views.open failed: %s", error.response.get("error"))
            return False
        return True

    async def _answer(
        self,
        reply: Reply,
        client: AsyncWebClient,
        *,
        respond: AsyncRespond | None,
        channel: str,
        user: str,
        replace_original: bool = False,
    ) -> None:
        if reply.files:
            await self._send_files(client, user, reply.files)
        if not (reply.text or reply.sections or reply.buttons):
            return
        payload = message_payload(reply)
        if respond is not None:
            try:
                if replace_original:
                    await respond(**payload, replace_original=True)
                else:
                    await respond(
                        **payload,
                        response_type=_answer_type(reply.visibility),
                        replace_original=False,
                    )
                return
            except (ClientError, TimeoutError, ValueError) as error:
                log.warning("response_url failed (%s); answering another way", error)
        if channel:
            try:
                await client.chat_postEphemeral(channel=channel, user=user, **payload)
                return
            except SlackApiError as error:
                log.info(
                    "ephemeral answer failed (%s); sending a direct message",
                    error.response.get("error"),
                )
        opened = await client.conversations_open(users=user)
        await client.chat_postMessage(channel=opened["channel"]["id"], **payload)

    async def _send_files(
        self, client: AsyncWebClient, user: str, files: Sequence[Attachment]
    ) -> None:
        # Files are personal (a data export): they go to the member's direct conversation.
        opened = await client.conversations_open(users=user)
        await client.files_upload_v2(
            channel=opened["channel"]["id"],
            file_uploads=[
                {"content": f.content, "filename": f.filename, "title": f.filename} for f in files
            ],
        )

    async def _apologise(self, respond: AsyncRespond | None, text: str = SORRY_TEXT) -> None:
        if respond is None:
            return
        with contextlib.suppress(Exception):
            await respond(
                text=text,
                response_type="ephemeral",
                replace_original=False,
            )

    # ---- delivery ----------------------------------------------------------------------------

    async def client_for(self, team_id: str) -> AsyncWebClient:
        """Return a Web API client holding the bot token of a workspace."""
        if self.oauth is None:
            return self.client
        token = await self.oauth.bot_token(team_id)
        if not token:
            raise DeliveryError(f"crowdmentor is not installed in {team_id}", permanent=True)
        return AsyncWebClient(token=token, base_url=self.base_url, retry_handlers=retry_handlers())

    async def deliver(self, delivery: Delivery) -> Delivered:
        """Send one outbox message through the Web API."""
        client = await self.client_for(delivery.community.external_id)
        try:
            return await self._deliver(client, delivery)
        except SlackApiError as error:
            raise delivery_error(error, f"{delivery.kind} {delivery.key}") from None
        except (ClientError, TimeoutError) as error:
            raise DeliveryError(f"{delivery.kind} {delivery.key}: {error!r}") from None

    async def _deliver(self, client: AsyncWebClient, delivery: Delivery) -> Delivered:
        payload = message_payload(delivery.reply)
        match delivery.kind:
            case DeliveryKind.UPDATE:
                if not delivery.update_ref or not delivery.channel_id:
                    raise DeliveryError("an edit needs the message it edits", permanent=True)
                done = await client.chat_update(
                    channel=delivery.channel_id, ts=delivery.update_ref, **payload
                )
                return Delivered(delivery.update_ref, None, str(done.get("channel") or ""))
            case DeliveryKind.POST | DeliveryKind.THREAD:
                if not delivery.channel_id:
                    raise DeliveryError("a post needs a channel", permanent=True)
                channel = delivery.channel_id
            case DeliveryKind.DIRECT | DeliveryKind.GROUP:
                channel = await self._conversation(client, delivery)
        thread = delivery.thread_ref if delivery.kind is DeliveryKind.THREAD else None
        if delivery.kind is DeliveryKind.THREAD and not thread:
            raise DeliveryError("a thread message needs its thread", permanent=True)
        if delivery.attempt > 0:
            earlier = await self._find_earlier(client, channel, thread, delivery.key)
            if earlier:
                return Delivered(earlier, thread or earlier, channel)
        if delivery.kind is DeliveryKind.POST:
            await self._join(client, delivery.community.external_id, channel)
        ts = await self._post(client, channel, thread, delivery.key, payload)
        return Delivered(ts, thread or ts, channel)

    async def _join(self, client: AsyncWebClient, team: str, channel: str) -> None:
        """Join a public channel once, so replies in its threads arrive as message events."""
        if not channel.startswith("C") or (team, channel) in self._joined:
            return
        try:
            await client.conversations_join(channel=channel)
        except SlackApiError as error:
            # Posting still works (chat:write.public); only reply counting needs membership.
            log.warning("could not join %s: %s", channel, error.response.get("error"))
            if is_transient(error):
                return  # Slack was unwell, not unwilling: join with the next post
        self._joined.add((team, channel))

    async def _conversation(self, client: AsyncWebClient, delivery: Delivery) -> str:
        people = list(dict.fromkeys(delivery.recipient_ids))
        if not people:
            raise DeliveryError("a direct message needs a recipient", permanent=True)
        if delivery.kind is DeliveryKind.DIRECT:
            people = people[:1]
        elif len(people) > GROUP_MEMBERS_MAX:
            raise DeliveryError(
                f"Slack group conversations hold at most {GROUP_MEMBERS_MAX} people", permanent=True
            )
        opened = await client.conversations_open(users=",".join(people))
        return str(opened["channel"]["id"])

    async def _post(
        self,
        client: AsyncWebClient,
        channel: str,
        thread: str | None,
        key: str,
        payload: dict[str, Any],
    ) -> str:
        arguments: dict[str, Any] = {
            "channel": channel,
            **payload,
            "unfurl_links": False,
            "unfurl_media": False,
            "metadata": {"event_type": METADATA_EVENT_TYPE, "event_payload": {"key": key}},
        }
        if thread:
            arguments["thread_ts"] = thread
        try:
            posted = await client.chat_postMessage(**arguments)
        except SlackApiError as error:
            if error.response.get("error") != "not_in_channel":
                raise
            # A public channel the bot was never invited to: join it once, then post.
            await client.conversations_join(channel=channel)
            posted = await client.chat_postMessage(**arguments)
        return str(posted["ts"])

    async def _find_earlier(
        self, client: AsyncWebClient, channel: str, thread: str | None, key: str
    ) -> str | None:
        """Return the ts of a message an earlier attempt posted under `key`, if there is one."""
        try:
            if thread:
                found = await client.conversations_replies(
                    channel=channel,
                    ts=thread,
                    include_all_metadata=True,
                    limit=RETRY_LOOKBACK_MESSAGES,
                )
            else:
                found = await client.conversations_history(
                    channel=channel, include_all_metadata=True, limit=RETRY_LOOKBACK_MESSAGES
                )
        except SlackApiError as error:
            code = str(error.response.get("error") or "")
            if code not in HISTORY_UNREADABLE_ERRORS:
                # Slack is unwell (5xx, 429): posting without having looked could double the
                # message, so the whole delivery is retried later instead.
                raise
            # Without history scopes the retry posts again; at worst one message is doubled.
            log.info("could not look for an earlier copy: %s", code)
            return None
        for message in found.get("messages") or []:
            metadata = message.get("metadata") or {}
            if (
                metadata.get("event_type") == METADATA_EVENT_TYPE
                and (metadata.get("event_payload") or {}).get("key") == key
            ):
                return str(message["ts"])
        return None

    # ---- serving -----------------------------------------------------------------------------

    def web_application(self) -> web.Application:
        """Return the HTTP endpoints: Slack's events, OAuth (when enabled) and a health check."""
        application = web.Application()
        application.router.add_post(EVENTS_PATH, self._handle_events)
        application.router.add_get(HEALTH_PATH, self._handle_health)
        if self.oauth is not None:
            self.oauth.add_routes(application, self.bolt)
        return application

    async def _handle_events(self, request: web.Request) -> web.Response:
        refused = await refuse_before_bolt(request, self._verifier)
        if refused is not None:
            return refused
        bolt_request = await to_bolt_request(request)
        bolt_response = await self.bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def _handle_health(self, request: web.Request) -> web.Response:
        del request
        # The listener runs finished so far, so an operator (or a test) sees this instance work.
        return web.json_response(
            {"ok": True, "platform": PLATFORM, "mode": self.mode, "handled": dict(self.handled)}
        )

    async def _introduce(self) -> None:
        """Check the bot token and learn the workspace's name (single-workspace mode)."""
        if self.oauth is not None:
            return
        try:
            auth = await self.client.auth_test()
        except SlackApiError as error:
            raise SlackConfigurationError(
                f"Slack refused the bot token: {error.response.get('error')}"
            ) from None
        team_id, team = str(auth.get("team_id") or ""), str(auth.get("team") or "")
        if team_id:
            self.team_names[team_id] = team
        log.info("connected to Slack workspace %s (%s)", team or "?", team_id or "?")

    async def serve(self) -> None:
        """Serve Slack until cancelled: Socket Mode, or HTTP on the configured port."""
        await self._introduce()
        if self.mode == "socket":
            await self._serve_socket()
        else:
            await self._serve_http()

    async def _serve_http(self) -> None:
        runner = web.AppRunner(self.web_application(), access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port, backlog=HTTP_LISTEN_BACKLOG)
            await site.start()
            self.bound_port = int(runner.addresses[0][1])
            log.info(
                "Slack HTTP mode: POST %s and GET %s on port %d",
                EVENTS_PATH,
                HEALTH_PATH,
                self.bound_port,
            )
            self.ready.set()
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    async def _serve_socket(self) -> None:
        handler = ShapeCheckedSocketModeHandler(self.bolt, self._app_token)
        try:
            await handler.connect_async()
            log.info("Slack Socket Mode connected")
            self.ready.set()
            await asyncio.Event().wait()
        finally:
            await handler.close_async()


class ShapeCheckedSocketModeHandler(AsyncSocketModeHandler):
    """Socket Mode with the same shape check as HTTP: what Bolt cannot read is acked and dropped.

    Acknowledging stops Slack from sending the envelope again; nothing reaches a listener.
    """

    async def handle(self, client: Any, req: SocketModeRequest) -> None:
        """Hand a well-formed envelope to Bolt; acknowledge and drop any other."""
        if isinstance(req.payload, dict) and has_slack_shape(req.payload):
            await super().handle(client, req)
            return
        log.warning("ignored a Socket Mode envelope Slack never sends (%s)", req.type)
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))


def build(app: App, options: dict[str, Any]) -> SlackAdapter:
    """Build the Slack adapter (`crowdmentor slack [--http] [--port N]`, `crowdmentor run`)."""
    return SlackAdapter(app, http=bool(options.get("http")), port=options.get("port"))
