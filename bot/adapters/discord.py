"""The Discord adapter: application commands, buttons, modals, threads and forum posts.

Inbound, interactions and thread messages become core events (`discord_inbound`); outbound,
replies become messages, views and modals (`discord_render`); the commands themselves are
generated from the registry (`discord_commands`). Everything the outbox queues is delivered by
`DiscordAdapter.deliver`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
from collections.abc import Awaitable, Mapping
from typing import Any

import discord
from discord import app_commands

from bot.adapters.base import Delivered, Delivery, DeliveryError, DeliveryKind
from bot.adapters.discord_commands import GUILD_INSTALL, GUILD_ONLY, install, sync_if_changed
from bot.adapters.discord_inbound import (
    PLATFORM,
    community_of,
    form_id_of,
    invocation_from,
    press_from,
    submission_from,
    thread_message_from,
)
from bot.adapters.discord_render import (
    OPEN_FORM_ACTION,
    ActionButton,
    Outgoing,
    form_modal,
    render_messages,
    render_single,
    thread_name,
)
from bot.app import App
from bot.limits import DISCORD_TAGS_PER_POST, INTERACTION_ACK_SECONDS
from bot.registry import CommandSpec
from bot.replies import Button, ButtonStyle, Form, Reply, Visibility

log = logging.getLogger(__name__)

# "auto" (Discord picks the shard count) or a number of shards; unset: one plain connection.
# Discord requires sharding from 2,500 guilds. Source:
# https://discord.com/developers/docs/events/gateway#sharding
SHARDS_ENV = "CROWDMENTOR_DISCORD_SHARDS"

# Answer directly when the reply is ready this soon, else defer: Discord invalidates an
# interaction not answered within 3 seconds (bot.limits.INTERACTION_ACK_SECONDS), and the
# answer still has to travel.
ACK_BUDGET_SECONDS = INTERACTION_ACK_SECONDS - 1.0

# Discord lets a bot send about 5 messages per 5 seconds in one channel (discord.py also
# honours the exact per-route buckets). Source:
# https://discord.com/developers/docs/topics/rate-limits (per-route limits, observed 5/5 s)
CHANNEL_INTERVAL_SECONDS = 1.0

# Deliveries wait this long for the client to log in (at start the outbox may be quicker);
# past it they are retried later rather than holding up other platforms' deliveries.
LOGIN_WAIT_SECONDS = 10.0

# discord.py waits out rate limits up to this long; a longer wait becomes a DeliveryError with
# its retry_after, so the outbox worker reschedules instead of blocking (30 s is the minimum).
MAX_RATELIMIT_WAIT_SECONDS = 30.0

# Threads stay in the channel's list for a week of quiet (allowed: 60, 1440, 4320, 10080).
# Source: https://discord.com/developers/docs/resources/channel#thread-metadata-object
THREAD_ARCHIVE_MINUTES = 10_080

# A forum holds at most 20 tags; a tag name is at most 20 characters. Source:
# https://discord.com/developers/docs/resources/channel#forum-tag-object
FORUM_TAGS_MAX = 20
TAG_NAME_MAX_CHARS = 20
# A forum that requires a tag gets this one when a question has no topic.
FALLBACK_TAG = "question"

# A message nonce is at most 25 characters; with enforce_nonce, Discord returns the first
# message instead of creating a second one. Source:
# https://discord.com/developers/docs/resources/message#create-message (nonce, enforce_nonce)
NONCE_MAX_CHARS = 25

# JSON error codes. Source: https://discord.com/developers/docs/topics/opcodes-and-status-codes
THREAD_ALREADY_CREATED = 160004
THREAD_ARCHIVED = 50083

GUILD_ONLY_TEXT = (
    "crowdmentor works inside a server: questions, topics and settings belong to a server's "
    "community. Use its commands in a channel of a server it has joined."
)
FORM_EXPIRED_TEXT = "That form has expired. Please run the command again."
COMMAND_CHANGED_TEXT = "That command has just changed. Please try it again in a minute."
COMMAND_FAILED_TEXT = "Sorry, I couldn't read that command. Nothing was changed; please try again."

# Replies only the person who asked should see.
_PRIVATE = (Visibility.ONLY_YOU, Visibility.DIRECT)


def intents() -> discord.Intents:
    """Return the gateway intents the features need, and nothing more.

    `guilds`: servers, channels and threads (the cache of threads that tells a question thread
    apart, and the removal event); `guild_messages`: messages in threads, to count replies.
    Message content is not needed (a reply is counted, not read), nor are members or presences.
    """
    return discord.Intents(guilds=True, guild_messages=True)


def shard_setting(environ: Mapping[str, str]) -> int | str | None:
    """Read the shard setting: None (no sharding), "auto", or a shard count."""
    raw = environ.get(SHARDS_ENV, "").strip().lower()
    if not raw:
        return None
    if raw == "auto":
        return "auto"
    count = int(raw)
    if count < 1:
        raise ValueError(f"{SHARDS_ENV} must be 'auto' or a positive number")
    return count


def nonce_for(key: str, index: int = 0) -> str:
    """Return the message nonce for part `index` of the outbox message `key`."""
    return hashlib.sha256(f"{key}#{index}".encode()).hexdigest()[:NONCE_MAX_CHARS]


def _tag_name(topic: str) -> str:
    return topic.strip()[:TAG_NAME_MAX_CHARS].strip()


def _delivery_error(error: discord.HTTPException) -> DeliveryError:
    """Translate a refusal into a DeliveryError: retry what can succeed later."""
    text = f"Discord said {error.status} ({error.code}): {error.text or 'no details'}"
    if error.status == 429:
        header = error.response.headers.get("Retry-After") if error.response else None
        retry_after = float(header) if header else None
        return DeliveryError(text, retry_after=retry_after)
    if error.status in (400, 404) or error.code == 50007:  # 50007: the member takes no DMs
        return DeliveryError(text, permanent=True)
    # 403: an admin may still grant the permission; the worker backs off and gives up in time.
    return DeliveryError(text)


def make_client(adapter: DiscordAdapter, shards: int | str | None) -> discord.Client:
    """Build the client (sharded when asked) that routes Discord's events to the adapter."""
    base: type[discord.Client] = discord.AutoShardedClient if shards is not None else discord.Client

    class CrowdmentorClient(base):  # type: ignore[valid-type,misc]
        """A discord.py client whose events go to the crowdmentor adapter."""

        async def setup_hook(self) -> None:
            """Register buttons and sync commands before connecting."""
            await adapter.setup()

        async def crowdmentor_press(
            self,
            interaction: discord.Interaction[Any],
            guild_id: str | None,
            action: str,
            value: str,
        ) -> None:
            """Handle a press of one of our buttons."""
            await adapter.on_press(interaction, guild_id, action, value)

        async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
            """Handle our modal submissions (commands and buttons are routed by discord.py)."""
            await adapter.on_interaction(interaction)

        async def on_message(self, message: discord.Message) -> None:
            """Count replies in question threads."""
            await adapter.on_message(message)

        async def on_guild_remove(self, guild: discord.Guild) -> None:
            """Schedule the community's data for deletion."""
            await adapter.on_guild_remove(guild)

        async def on_guild_join(self, guild: discord.Guild) -> None:
            """Keep the community's data if it was waiting for deletion."""
            await adapter.on_guild_join(guild)

    options: dict[str, Any] = {
        "intents": intents(),
        # Belt and braces: every message names its own allowed mentions too.
        "allowed_mentions": discord.AllowedMentions.none(),
        "max_ratelimit_timeout": MAX_RATELIMIT_WAIT_SECONDS,
    }
    if isinstance(shards, int):
        options["shard_count"] = shards
    return CrowdmentorClient(**options)


class DiscordAdapter:
    """Serve one Discord application: its commands, buttons, forms and deliveries."""

    platform = PLATFORM
    channel_interval = CHANNEL_INTERVAL_SECONDS

    def __init__(self, app: App, *, shards: int | str | None = None) -> None:
        self.app = app
        self.client = make_client(self, shards)
        self.tree: app_commands.CommandTree[Any] = app_commands.CommandTree(
            self.client, allowed_contexts=GUILD_ONLY, allowed_installs=GUILD_INSTALL
        )
        self.tree.error(self._on_tree_error)
        install(self.tree, app.registry, self.run_command)
        self.ack_budget = ACK_BUDGET_SECONDS
        # Forms that could not open at once (the interaction had to be deferred) wait here for
        # their "Open the form" button; forms are static, so losing them on restart is harmless.
        self._forms: dict[str, Form] = {}
        self._forums_without_tag_rights: set[int] = set()
        self._logged_in = asyncio.Event()
        self.login_wait = LOGIN_WAIT_SECONDS

    # ---- lifecycle -----------------------------------------------------------------------

    async def setup(self) -> None:
        """Make buttons from any earlier run work, and sync commands if they changed."""
        self.client.add_dynamic_items(ActionButton)
        self._logged_in.set()  # REST calls work from here on; the gateway follows
        try:
            await sync_if_changed(self.tree)
        except discord.HTTPException as error:
            log.error("could not sync application commands: %s", error)

    async def serve(self) -> None:
        """Connect to Discord and handle events until cancelled."""
        token = self.app.settings.discord_token
        if token is None or not token.get_secret_value():
            raise RuntimeError("DISCORD_TOKEN is not set")
        async with self.client:
            await self.client.start(token.get_secret_value())

    # ---- inbound ---------------------------------------------------------------------------

    async def run_command(
        self, interaction: discord.Interaction[Any], spec: CommandSpec, values: dict[str, Any]
    ) -> None:
        """Run an application command and answer it within Discord's 3 seconds."""
        if interaction.guild_id is None:
            await self._say(interaction, GUILD_ONLY_TEXT)
            return
        invocation = invocation_from(interaction, spec, values)
        # A modal can only be an interaction's first answer, so a form opens before any work.
        form = self.app.dispatcher.form_first(invocation.command, options=invocation.options)
        if form is not None:
            await interaction.response.send_modal(form_modal(form))
            return
        await self._answer(
            interaction, self.app.dispatcher.dispatch(invocation), defer_first=spec.slow
        )

    async def on_press(
        self, interaction: discord.Interaction[Any], guild_id: str | None, action: str, value: str
    ) -> None:
        """Run a button's action."""
        if action == OPEN_FORM_ACTION:
            form = self._forms.get(value)
            if form is None:
                await self._say(interaction, FORM_EXPIRED_TEXT)
            else:
                await interaction.response.send_modal(form_modal(form))
            return
        press = press_from(interaction, guild_id, action, value)
        if press is None:
            await self._say(interaction, GUILD_ONLY_TEXT)
            return
        await self._answer(
            interaction,
            self.app.dispatcher.press(press),
            defer_first=False,
            guild_id=press.community.external_id,
        )

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Handle a submitted form (from this process or one before a restart)."""
        if form_id_of(interaction) is None:
            return
        submission = submission_from(interaction)
        if submission is None:
            await self._say(interaction, GUILD_ONLY_TEXT)
            return
        # A form's answer can never be another modal, so deferring first costs nothing.
        await self._answer(interaction, self.app.dispatcher.submit(submission), defer_first=True)

    async def on_message(self, message: discord.Message) -> None:
        """Offer a reply in one of the bot's threads to the core (it counts and credits it)."""
        bot_user = self.client.user
        event = thread_message_from(message, bot_user.id if bot_user else None)
        if event is not None:
            await self.app.dispatcher.message(event)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Schedule deletion of the guild's data after the grace period."""
        community = community_of(guild.id, guild)
        assert community is not None
        await self.app.dispatcher.community_removed(community)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Cancel the deletion of a guild that invited the bot back within the grace period."""
        community = community_of(guild.id, guild)
        assert community is not None
        await self.app.dispatcher.community_returned(community)

    async def _on_tree_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            # Discord still shows the old shape until the sync reaches the member's client.
            await self._say(interaction, COMMAND_CHANGED_TEXT)
            return
        log.error("application command failed", exc_info=error)
        await self._say(interaction, COMMAND_FAILED_TEXT)

    # ---- answering interactions -------------------------------------------------------------

    async def _say(self, interaction: discord.Interaction[Any], text: str) -> None:
        if interaction.response.is_done():
            return
        with contextlib.suppress(discord.HTTPException):
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )

    async def _defer(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.HTTPException as error:
            # Too late or already answered: the work still completes (and its posts go out).
            log.warning("could not defer an interaction: %s", error)

    async def _answer(
        self,
        interaction: discord.Interaction[Any],
        work: Awaitable[Reply],
        *,
        defer_first: bool,
        guild_id: str | None = None,
    ) -> None:
        """Answer in time: directly when the reply is ready soon, else defer and follow up."""
        task = asyncio.ensure_future(work)
        deferred = defer_first
        if defer_first:
            await self._defer(interaction)
        else:
            done, _ = await asyncio.wait({task}, timeout=self.ack_budget)
            if not done:
                deferred = True
                await self._defer(interaction)
        reply = await task
        try:
            await self._respond(interaction, reply, deferred=deferred, guild_id=guild_id)
        except discord.HTTPException as error:
            log.warning("could not answer an interaction: %s", error)

    async def _respond(
        self,
        interaction: discord.Interaction[Any],
        reply: Reply,
        *,
        deferred: bool,
        guild_id: str | None,
    ) -> None:
        extra: tuple[Button, ...] = ()
        if reply.form is not None:
            can_open = not deferred and interaction.type is not discord.InteractionType.modal_submit
            if can_open:
                await interaction.response.send_modal(form_modal(reply.form))
                return
            self._forms[reply.form.form_id] = reply.form
            extra = (
                Button(OPEN_FORM_ACTION, "Open the form", reply.form.form_id, ButtonStyle.PRIMARY),
            )
        private = reply.visibility in _PRIVATE
        # Buttons outside a guild (a DM) must say which community they belong to.
        button_guild = guild_id if interaction.guild_id is None else None
        messages = render_messages(reply, guild_id=button_guild, extra_buttons=extra)
        files = [
            discord.File(io.BytesIO(attachment.content.encode()), filename=attachment.filename)
            for attachment in reply.files
        ]
        if deferred and not private:
            # The deferral's placeholder is private; a public answer replaces it.
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()
        for index, message in enumerate(messages):
            kwargs = message.send_kwargs()
            if index == 0 and files:
                kwargs["files"] = files
            if index == 0 and not deferred:
                await interaction.response.send_message(ephemeral=private, **kwargs)
            else:
                await interaction.followup.send(ephemeral=private, wait=True, **kwargs)

    # ---- deliveries ----------------------------------------------------------------------

    async def deliver(self, delivery: Delivery) -> Delivered:
        """Send one outbox message; raise DeliveryError so the worker retries or gives up."""
        try:
            await asyncio.wait_for(self._logged_in.wait(), self.login_wait)
        except TimeoutError:
            raise DeliveryError("not logged in to Discord yet", retry_after=30.0) from None
        try:
            match delivery.kind:
                case DeliveryKind.POST:
                    return await self._post(delivery)
                case DeliveryKind.THREAD:
                    return await self._in_thread(delivery)
                case DeliveryKind.UPDATE:
                    return await self._update(delivery)
                case DeliveryKind.DIRECT:
                    return await self._direct(delivery)
                case DeliveryKind.GROUP:
                    return await self._group(delivery)
        except discord.RateLimited as error:
            raise DeliveryError(
                f"rate limited for {error.retry_after:.0f}s", retry_after=error.retry_after
            ) from error
        except discord.HTTPException as error:
            raise _delivery_error(error) from error
        except ValueError as error:  # an id that is not a Discord id
            raise DeliveryError(str(error), permanent=True) from error
        raise DeliveryError(f"unknown delivery kind {delivery.kind}", permanent=True)

    async def _channel(self, channel_id: str | None) -> Any:
        if not channel_id:
            raise DeliveryError("this message has no channel", permanent=True)
        identifier = int(channel_id)
        channel = self.client.get_channel(identifier)
        return channel if channel is not None else await self.client.fetch_channel(identifier)

    async def _send_all(
        self, target: discord.abc.Messageable, messages: list[Outgoing], key: str
    ) -> list[discord.Message]:
        sent = []
        for index, message in enumerate(messages):
            sent.append(await target.send(nonce=nonce_for(key, index), **message.send_kwargs()))
        return sent

    async def _post(self, delivery: Delivery) -> Delivered:
        channel = await self._channel(delivery.channel_id)
        if isinstance(channel, discord.ForumChannel):
            return await self._forum_post(channel, delivery)
        if not isinstance(channel, discord.abc.Messageable):
            raise DeliveryError(f"channel {delivery.channel_id} takes no messages", permanent=True)
        # One message, because the post is edited later (its state, its buttons).
        message = await channel.send(
            nonce=nonce_for(delivery.key), **render_single(delivery.reply).send_kwargs()
        )
        thread_ref = None
        if delivery.thread_title:
            thread_ref = await self._open_thread(message, delivery.thread_title)
        return Delivered(str(message.id), thread_ref, str(channel.id))

    async def _open_thread(self, message: discord.Message, title: str) -> str:
        """Start the message's thread; its id is the message's id, even when it already exists."""
        try:
            thread = await message.create_thread(
                name=thread_name(title), auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
        except discord.HTTPException as error:
            if error.code == THREAD_ALREADY_CREATED:
                return str(message.id)  # a retry: the first attempt made it
            if error.status in (400, 403):
                # The post stands (and its buttons work); retrying would not bring the
                # permission, and a thread opened later from the message gets this same id.
                log.warning(
                    "could not start a thread in channel %s (%s); grant Create Public Threads",
                    message.channel.id,
                    error,
                )
                return str(message.id)
            raise
        return str(thread.id)

    async def _forum_post(self, forum: discord.ForumChannel, delivery: Delivery) -> Delivered:
        name = thread_name(delivery.thread_title or delivery.reply.text.plain())
        if delivery.attempt > 0:
            # Forum posts take no nonce: look for the post an earlier attempt may have made.
            existing = await self._find_thread(forum, name)
            if existing is not None:
                return Delivered(str(existing.id), str(existing.id), str(forum.id))
        tags = await self._forum_tags(forum, delivery.topics)
        created = await forum.create_thread(
            name=name,
            auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            applied_tags=tags,
            **render_single(delivery.reply).send_kwargs(),
        )
        return Delivered(str(created.message.id), str(created.thread.id), str(forum.id))

    async def _find_thread(self, parent: Any, name: str) -> discord.Thread | None:
        bot_user = self.client.user
        guild = getattr(parent, "guild", None)
        if bot_user is None or not isinstance(guild, discord.Guild):
            return None
        for thread in await guild.active_threads():
            ours = thread.parent_id == parent.id and thread.owner_id == bot_user.id
            if ours and thread.name == name:
                return thread
        return None

    def _may_manage(self, forum: discord.ForumChannel) -> bool:
        if forum.id in self._forums_without_tag_rights:
            return False
        guild = forum.guild
        me = guild.me if isinstance(guild, discord.Guild) else None
        # Without the member cache, try once and remember a refusal.
        return me is None or forum.permissions_for(me).manage_channels

    def _may_apply(self, forum: discord.ForumChannel, tag: discord.ForumTag) -> bool:
        if not tag.moderated:
            return True
        guild = forum.guild
        me = guild.me if isinstance(guild, discord.Guild) else None
        return me is not None and forum.permissions_for(me).manage_threads

    async def _forum_tags(
        self, forum: discord.ForumChannel, topics: tuple[str, ...]
    ) -> list[discord.ForumTag]:
        """Return the forum tags for the topics, creating missing ones while there is room."""
        wanted = list(dict.fromkeys(n for n in (_tag_name(t) for t in topics) if n))
        wanted = wanted[:DISCORD_TAGS_PER_POST]
        if not wanted and forum.flags.require_tag:
            wanted = [FALLBACK_TAG]
        by_name = {tag.name.casefold(): tag for tag in forum.available_tags}
        missing = [name for name in wanted if name.casefold() not in by_name]
        room = FORUM_TAGS_MAX - len(forum.available_tags)
        if missing and room > 0 and self._may_manage(forum):
            new = [discord.ForumTag(name=name) for name in missing[:room]]
            try:
                edited = await forum.edit(available_tags=[*forum.available_tags, *new])
            except discord.Forbidden:
                self._forums_without_tag_rights.add(forum.id)
                log.info("no Manage Channels in forum %s: posting without new tags", forum.id)
            except discord.HTTPException as error:
                log.warning("could not add tags to forum %s: %s", forum.id, error)
            else:
                if isinstance(edited, discord.ForumChannel):
                    forum = edited
                by_name = {tag.name.casefold(): tag for tag in forum.available_tags}
        tags = [by_name[name.casefold()] for name in wanted if name.casefold() in by_name]
        return [tag for tag in tags if self._may_apply(forum, tag)][:DISCORD_TAGS_PER_POST]

    async def _in_thread(self, delivery: Delivery) -> Delivered:
        if not delivery.thread_ref:
            raise DeliveryError("a thread message needs its thread", permanent=True)
        # Sending into an archived (not locked) thread reopens it.
        thread = self.client.get_partial_messageable(int(delivery.thread_ref))
        sent = await self._send_all(thread, render_messages(delivery.reply), delivery.key)
        return Delivered(str(sent[0].id), delivery.thread_ref, delivery.channel_id)

    async def _update(self, delivery: Delivery) -> Delivered:
        if not delivery.update_ref:
            raise DeliveryError("an edit needs the message it edits", permanent=True)
        message_id = int(delivery.update_ref)
        channel = await self._channel(delivery.channel_id)
        # A forum post's first message lives in its thread, whose id is the message's id.
        forum = isinstance(channel, discord.ForumChannel)
        where = message_id if forum else channel.id
        target = self.client.get_partial_messageable(where).get_partial_message(message_id)
        edit = render_single(delivery.reply).edit_kwargs()
        try:
            await target.edit(**edit)
        except discord.HTTPException as error:
            if not (forum and error.code == THREAD_ARCHIVED):
                raise
            # A quiet forum post archives itself; reopen it to show the new state.
            thread = await self._channel(str(message_id))
            await thread.edit(archived=False)
            await target.edit(**edit)
        return Delivered(str(message_id), str(message_id) if forum else None, str(channel.id))

    async def _direct(self, delivery: Delivery) -> Delivered:
        if not delivery.recipient_ids:
            raise DeliveryError("a direct message needs its recipient", permanent=True)
        dm = await self.client.create_dm(discord.Object(int(delivery.recipient_ids[0])))
        # Presses in a DM carry no guild, so the buttons name the community themselves.
        messages = render_messages(delivery.reply, guild_id=delivery.community.external_id)
        sent = await self._send_all(dm, messages, delivery.key)
        return Delivered(str(sent[0].id), None, str(dm.id))

    async def _group(self, delivery: Delivery) -> Delivered:
        """Open a private thread with the recipients (bots cannot create group DMs)."""
        channel = await self._channel(delivery.channel_id)
        if not isinstance(channel, discord.TextChannel):
            raise DeliveryError(
                "group conversations are private threads, which need a text channel",
                permanent=True,
            )
        name = thread_name(delivery.thread_title or delivery.reply.text.plain() or "crowdmentor")
        thread = await self._find_thread(channel, name) if delivery.attempt > 0 else None
        if thread is None:
            thread = await channel.create_thread(
                name=name,
                type=discord.ChannelType.private_thread,
                invitable=False,
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        for recipient in delivery.recipient_ids:
            # Idempotent: adding a member twice is fine.
            await thread.add_user(discord.Object(int(recipient)))
        sent = await self._send_all(thread, render_messages(delivery.reply), delivery.key)
        return Delivered(str(sent[0].id), str(thread.id), str(channel.id))


def build(app: App, options: dict[str, Any]) -> DiscordAdapter:
    """Build the Discord adapter (`crowdmentor discord`, or `run` with DISCORD_TOKEN set)."""
    del options  # `crowdmentor discord` has no options of its own
    shards = shard_setting({SHARDS_ENV: app.settings.discord_shards or ""})
    if shards is not None:
        log.info("sharding: %s", shards)
    return DiscordAdapter(app, shards=shards)
