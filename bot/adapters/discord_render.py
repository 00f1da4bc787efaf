"""Render replies for Discord: message content, an embed for overflow, buttons and modals.

Every plain `str` part is escaped (markdown and mentions), and every message carries
`allowed_mentions` that name only the people a `Mention` part means to notify, so nothing a
member typed can ping a role or the whole server. Long text is split or shortened to Discord's
limits rather than ever being refused by Discord.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.limits import DISCORD_MESSAGE_MAX_CHARS, DISCORD_THREAD_NAME_MAX_CHARS
from bot.replies import (
    Bold,
    Button,
    ButtonStyle,
    ChannelLink,
    Code,
    FieldKind,
    Form,
    Italic,
    Mention,
    Quote,
    Reply,
    Rich,
)

# Embed limits. Source: https://discord.com/developers/docs/resources/message#embed-object-embed-limits
# ("description: 4096 characters"; "the combined sum of characters ... must not exceed 6000").
EMBED_DESCRIPTION_MAX_CHARS = 4_096
EMBED_TOTAL_MAX_CHARS = 6_000

# Components. Source: https://discord.com/developers/docs/components/reference
# (custom_id up to 100 characters; button label up to 80; 5 buttons per action row; 5 rows).
CUSTOM_ID_MAX_CHARS = 100
BUTTON_LABEL_MAX_CHARS = 80
BUTTONS_PER_ROW = 5
BUTTONS_PER_MESSAGE = 25

# Modals. Source: https://discord.com/developers/docs/components/reference#modal and #label
# (title up to 45 characters, at most 5 top-level components, label text up to 45, text input
# values up to 4000, placeholders up to 100).
MODAL_TITLE_MAX_CHARS = 45
MODAL_COMPONENTS_MAX = 5
LABEL_MAX_CHARS = 45
TEXT_INPUT_MAX_CHARS = 4_000
PLACEHOLDER_MAX_CHARS = 100

# Allowed mentions name at most 100 users. Source:
# https://discord.com/developers/docs/resources/message#allowed-mentions-object
ALLOWED_MENTION_USERS_MAX = 100

# Our component ids: "cm:<action>:<value>", or "cm@<guild id>:<action>:<value>" on messages
# outside a guild (direct messages), where the press itself does not say which community.
BUTTON_PREFIX = "cm"
CUSTOM_ID_TEMPLATE = r"cm(?:@(?P<guild>[0-9]{1,20}))?:(?P<action>[^:]+):(?P<value>.*)"
FORM_PREFIX = "cmf:"
YES, NO = "yes", "no"

# Pressing this button (offered when a form could not be opened straight away) opens the form.
OPEN_FORM_ACTION = "discord.open-form"

_SNOWFLAKE = re.compile(r"^[0-9]{15,21}$")


def escape(text: str) -> str:
    """Make member text literal: no markdown, no mentions."""
    return escape_mentions(escape_markdown(text))


def _code(text: str) -> str:
    # Backticks cannot be escaped inside code, so a look-alike keeps the span intact.
    if "\n" in text:
        return "```\n" + escape_mentions(text.replace("```", "ˋˋˋ")) + "\n```"
    return "`" + escape_mentions(text.replace("`", "ˋ")) + "`"


def _wrap(marker: str, text: str) -> str:
    # Discord ignores emphasis that starts or ends with a space: keep spaces outside it.
    core = text.strip()
    if not core:
        return text
    start = text.index(core[0])
    return f"{text[:start]}{marker}{escape(core)}{marker}{text[start + len(core) :]}"


def render_rich(value: Rich) -> str:
    """Render inline parts as Discord markdown."""
    out: list[str] = []
    for part in value.parts:
        match part:
            case str():
                out.append(escape(part))
            case Bold():
                out.append(_wrap("**", part.text))
            case Italic():
                out.append(_wrap("*", part.text))
            case Code():
                out.append(_code(part.text) if part.text else "")
            case Mention():
                if _SNOWFLAKE.match(part.user_id):
                    out.append(f"<@{part.user_id}>")
                else:
                    out.append("@" + escape(part.display_name))
            case ChannelLink():
                if _SNOWFLAKE.match(part.channel_id):
                    out.append(f"<#{part.channel_id}>")
                else:
                    out.append("#" + escape(part.name or part.channel_id))
            case Quote():
                lines = part.text.splitlines() or [""]
                quoted = "\n".join(f"> {escape(line)}" if line else ">" for line in lines)
                out.append(f"\n{quoted}\n")
    text = "".join(out)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip("\n")


def _sections(reply: Reply) -> list[str]:
    blocks = []
    for section in reply.sections:
        heading = render_rich(section.heading) if section.heading else ""
        body = render_rich(section.body)
        blocks.append("\n".join(chunk for chunk in (heading, body) if chunk))
    return [block for block in blocks if block]


def render_text(reply: Reply) -> str:
    """Render the reply's text and sections as one markdown text."""
    blocks = [render_rich(reply.text), *_sections(reply)]
    return "\n\n".join(block for block in blocks if block)


def mentioned_users(reply: Reply) -> list[int]:
    """Return the ids of the people the reply's `Mention` parts name, in order, once each."""
    runs = [reply.text]
    for section in reply.sections:
        runs.append(section.body)
        if section.heading:
            runs.append(section.heading)
    ids: dict[int, None] = {}
    for run in runs:
        for part in run.parts:
            if isinstance(part, Mention) and _SNOWFLAKE.match(part.user_id):
                ids[int(part.user_id)] = None
    return list(ids)[:ALLOWED_MENTION_USERS_MAX]


def allowed_mentions_for(reply: Reply) -> discord.AllowedMentions:
    """Allow pings only for the people the reply mentions: never everyone, here or roles."""
    users = [discord.Object(user_id) for user_id in mentioned_users(reply)]
    return discord.AllowedMentions(everyone=False, roles=False, users=users, replied_user=False)


def shorten(text: str, limit: int) -> str:
    """Cut text to at most `limit` characters (at a word break when one is near), with "…"."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    if cut < limit * 3 // 4:
        cut = limit - 1
    head = text[:cut].rstrip()
    if head.endswith("\\") and not head.endswith("\\\\"):
        head = head[:-1]  # never leave half of an escape behind
    return head + "…"


def split_content(text: str, limit: int = DISCORD_MESSAGE_MAX_CHARS) -> list[str]:
    """Split text into messages of at most `limit` characters, at line or word breaks."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
            if rest[cut - 1] == "\\":
                cut -= 1  # keep an escape with the character it escapes
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not chunks:
        chunks.append(rest)
    return [chunk for chunk in chunks if chunk] or [""]


def thread_name(title: str) -> str:
    """Return a thread name Discord accepts: one line, 1-100 characters."""
    line = " ".join(title.split()) or "Question"
    return shorten(line, DISCORD_THREAD_NAME_MAX_CHARS)


def custom_id_for(action: str, value: str, guild_id: str | None = None) -> str:
    """Return the component id that carries a button's action and value."""
    where = f"@{guild_id}" if guild_id else ""
    return f"{BUTTON_PREFIX}{where}:{action}:{value}"


_STYLES = {
    ButtonStyle.PRIMARY: discord.ButtonStyle.primary,
    ButtonStyle.DANGER: discord.ButtonStyle.danger,
    ButtonStyle.DEFAULT: discord.ButtonStyle.secondary,
}


@runtime_checkable
class ButtonTarget(Protocol):
    """The client side of a press: the adapter's client implements it."""

    async def crowdmentor_press(
        self, interaction: discord.Interaction[Any], guild_id: str | None, action: str, value: str
    ) -> None:
        """Handle a press of one of our buttons."""


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID_TEMPLATE):
    """A button whose custom id carries our action and value, so it works after a restart."""

    def __init__(
        self,
        action: str,
        value: str,
        *,
        label: str,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        guild_id: str | None = None,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=shorten(label, BUTTON_LABEL_MAX_CHARS) or "…",
                style=style,
                custom_id=custom_id_for(action, value, guild_id),
            )
        )
        self.action = action
        self.value = value
        self.guild_id = guild_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ActionButton:
        """Rebuild the button from a pressed component (any process, any restart)."""
        del interaction
        label = getattr(item, "label", None) or "…"
        style = getattr(item, "style", discord.ButtonStyle.secondary)
        return cls(
            match["action"], match["value"], label=label, style=style, guild_id=match["guild"]
        )

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Hand the press to the adapter through the client."""
        client = interaction.client
        if isinstance(client, ButtonTarget):
            await client.crowdmentor_press(interaction, self.guild_id, self.action, self.value)


def button_view(buttons: Sequence[Button], guild_id: str | None = None) -> discord.ui.View | None:
    """Return a persistent view with the buttons (5 per row), or None when there are none."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    seen: set[str] = set()
    for button in buttons[:BUTTONS_PER_MESSAGE]:
        custom_id = custom_id_for(button.action, button.value, guild_id)
        if ":" in button.action or len(custom_id) > CUSTOM_ID_MAX_CHARS or custom_id in seen:
            # Discord would refuse the whole message; one unusable button must not cost that.
            continue
        seen.add(custom_id)
        item = ActionButton(
            button.action,
            button.value,
            label=button.label,
            style=_STYLES[button.style],
            guild_id=guild_id,
        )
        item.row = (len(seen) - 1) // BUTTONS_PER_ROW
        view.add_item(item)
    return view if view.children else None


@dataclass(frozen=True)
class Outgoing:
    """One Discord message, ready to send."""

    content: str
    allowed_mentions: discord.AllowedMentions
    embeds: tuple[discord.Embed, ...] = ()
    view: discord.ui.View | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def send_kwargs(self) -> dict[str, Any]:
        """Return keyword arguments for `send`, `followup.send` and `send_message`."""
        kwargs: dict[str, Any] = {"allowed_mentions": self.allowed_mentions}
        if self.content:
            kwargs["content"] = self.content
        if self.embeds:
            kwargs["embeds"] = list(self.embeds)
        if self.view is not None:
            kwargs["view"] = self.view
        return kwargs

    def edit_kwargs(self) -> dict[str, Any]:
        """Return keyword arguments for `edit`: everything replaced, buttons removed if none."""
        return {
            "content": self.content or None,
            "embeds": list(self.embeds),
            "view": self.view,
            "allowed_mentions": self.allowed_mentions,
        }


# Said when a reply has nothing to show (Discord refuses an empty message).
EMPTY_FALLBACK = "Done."


def render_messages(
    reply: Reply,
    *,
    guild_id: str | None = None,
    extra_buttons: Iterable[Button] = (),
) -> list[Outgoing]:
    """Render a reply as one or more messages (long text split); buttons go on the last one."""
    mentions = allowed_mentions_for(reply)
    view = button_view([*reply.buttons, *extra_buttons], guild_id)
    chunks = split_content(render_text(reply))
    if not chunks[0] and view is None:
        chunks = [EMPTY_FALLBACK]
    messages = [Outgoing(chunk, mentions) for chunk in chunks[:-1]]
    messages.append(Outgoing(chunks[-1], mentions, view=view))
    return messages


def render_single(reply: Reply, *, guild_id: str | None = None) -> Outgoing:
    """Render a reply as exactly one message (a post that is edited later).

    When everything fits in the content, it goes there; otherwise the text stays in the content
    and the sections move to an embed (4,096 characters); whatever still does not fit is shortened.
    """
    mentions = allowed_mentions_for(reply)
    view = button_view(reply.buttons, guild_id)
    whole = render_text(reply)
    if len(whole) <= DISCORD_MESSAGE_MAX_CHARS:
        return Outgoing(whole or ("" if view else EMPTY_FALLBACK), mentions, view=view)
    head = shorten(render_rich(reply.text), DISCORD_MESSAGE_MAX_CHARS)
    body = shorten("\n\n".join(_sections(reply)), EMBED_DESCRIPTION_MAX_CHARS)
    embeds = (discord.Embed(description=body),) if body else ()
    return Outgoing(head, mentions, embeds=embeds, view=view)


def form_modal(form: Form) -> discord.ui.Modal:
    """Build a modal for a form: text inputs, and a yes/no select for yes/no fields."""
    modal = discord.ui.Modal(
        title=shorten(form.title, MODAL_TITLE_MAX_CHARS) or "crowdmentor",
        custom_id=shorten(FORM_PREFIX + form.form_id, CUSTOM_ID_MAX_CHARS),
        timeout=None,
    )
    for form_field in form.fields[:MODAL_COMPONENTS_MAX]:
        component: discord.ui.Item[Any]
        if form_field.kind is FieldKind.YES_NO:
            component = discord.ui.Select(
                custom_id=form_field.name,
                options=[
                    discord.SelectOption(label="No", value=NO, default=True),
                    discord.SelectOption(label="Yes", value=YES),
                ],
                min_values=1 if form_field.required else 0,
                max_values=1,
                required=form_field.required,
            )
        else:
            style = (
                discord.TextStyle.paragraph
                if form_field.kind is FieldKind.LONG_TEXT
                else discord.TextStyle.short
            )
            component = discord.ui.TextInput(
                custom_id=form_field.name,
                style=style,
                required=form_field.required,
                max_length=min(form_field.max_length or TEXT_INPUT_MAX_CHARS, TEXT_INPUT_MAX_CHARS),
                placeholder=shorten(form_field.placeholder, PLACEHOLDER_MAX_CHARS) or None,
            )
        modal.add_item(
            discord.ui.Label(text=shorten(form_field.label, LABEL_MAX_CHARS), component=component)
        )
    # The submission is read from the raw interaction (see discord_inbound), which also works for
    # a modal opened before a restart; a stopped modal is not kept in discord.py's memory.
    modal.stop()
    return modal
