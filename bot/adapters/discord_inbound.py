"""Translate what Discord sends (interactions, thread messages) into crowdmentor's events."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import discord

from bot.adapters.discord_render import FORM_PREFIX, NO, YES
from bot.args import ChannelRef, UserRef
from bot.events import (
    SUBCOMMAND_OPTION,
    Actor,
    ButtonPress,
    Community,
    FormSubmission,
    Invocation,
    Place,
    PlaceKind,
    ThreadMessage,
)
from bot.registry import CommandSpec, ParamKind

PLATFORM = "discord"

# Component types inside a modal submission. Source:
# https://discord.com/developers/docs/components/reference#component-object-component-types
_TEXT_INPUT = 4
_STRING_SELECT = 3

_FORUMS = (discord.ForumChannel,)
# What Discord resolves a channel option to (a person has an id too, but is no channel).
_CHANNEL_TYPES = (
    discord.abc.GuildChannel,
    discord.Thread,
    discord.app_commands.AppCommandChannel,
    discord.app_commands.AppCommandThread,
)
_REPLY_TYPES = (discord.MessageType.default, discord.MessageType.reply)


def community_of(
    guild_id: int | str | None, guild: discord.Guild | None = None
) -> Community | None:
    """Return the community of a guild (None outside a guild)."""
    if guild_id is None:
        return None
    name = guild.name if guild is not None and guild.name else ""
    return Community(PLATFORM, str(guild_id), name)


def actor_of(
    user: discord.User | discord.Member, permissions: discord.Permissions | None = None
) -> Actor:
    """Return the actor for a Discord user; Manage Server makes them a platform admin."""
    if permissions is None and isinstance(user, discord.Member):
        permissions = user.guild_permissions
    is_admin = permissions is not None and (permissions.manage_guild or permissions.administrator)
    return Actor(
        user_id=str(user.id),
        display_name=user.display_name,
        is_platform_admin=bool(is_admin),
        is_bot=user.bot,
    )


def place_of(channel: Any, channel_id: int | None = None) -> Place:
    """Return where something happened; inside a thread, the channel is the thread's parent."""
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        return Place(
            channel_id=str(channel.parent_id),
            thread_id=str(channel.id),
            kind=PlaceKind.FORUM if isinstance(parent, _FORUMS) else PlaceKind.CHANNEL,
            channel_name=parent.name if parent is not None else "",
        )
    if isinstance(channel, discord.DMChannel):
        return Place(channel_id=str(channel.id), kind=PlaceKind.DIRECT)
    if isinstance(channel, discord.GroupChannel):
        return Place(channel_id=str(channel.id), kind=PlaceKind.GROUP)
    identifier = getattr(channel, "id", None) or channel_id
    return Place(
        channel_id=str(identifier or ""),
        kind=PlaceKind.FORUM if isinstance(channel, _FORUMS) else PlaceKind.CHANNEL,
        channel_name=getattr(channel, "name", None) or "",
    )


def interaction_actor(interaction: discord.Interaction[Any]) -> Actor:
    """Return who interacted, with the permissions Discord resolved for them."""
    permissions = interaction.permissions if interaction.guild_id is not None else None
    return actor_of(interaction.user, permissions)


def interaction_place(interaction: discord.Interaction[Any]) -> Place:
    """Return where the interaction happened."""
    return place_of(interaction.channel, interaction.channel_id)


def typed_options(spec: CommandSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """Turn Discord's resolved option values into the core's typed option values."""
    options: dict[str, Any] = {}
    for param in spec.params:
        value = values.get(param.name)
        if value is None:
            continue
        if param.kind is ParamKind.USER:
            if not isinstance(value, discord.abc.User):
                continue  # something else resolved under a person's name: read as missing
            value = UserRef(user_id=str(value.id), name=value.display_name)
        elif param.kind is ParamKind.CHANNEL:
            if not isinstance(value, _CHANNEL_TYPES):
                continue
            value = ChannelRef(str(value.id), getattr(value, "name", "") or "")
        options[param.name] = value
    return options


def invocation_from(
    interaction: discord.Interaction[Any], spec: CommandSpec, values: Mapping[str, Any]
) -> Invocation:
    """Build the invocation of an application command (its options are already typed)."""
    community = community_of(interaction.guild_id, interaction.guild)
    assert community is not None, "commands are only offered inside servers"
    options = typed_options(spec, values)
    below_root = spec.path[1:]
    options[SUBCOMMAND_OPTION] = below_root
    # The text is what a text platform would have seen; the dispatcher resolves the same
    # command from it and the core echoes it if the database is down.
    typed_text = next(
        (
            str(options[p.name])
            for p in spec.params
            if p.kind is ParamKind.TEXT and p.name in options
        ),
        "",
    )
    return Invocation(
        command=spec.path[0],
        text=" ".join(word for word in (*below_root, typed_text) if word),
        actor=interaction_actor(interaction),
        community=community,
        place=interaction_place(interaction),
        options=options,
    )


def press_from(
    interaction: discord.Interaction[Any], guild_id: str | None, action: str, value: str
) -> ButtonPress | None:
    """Build a button press; a press in a direct message names its guild in the custom id."""
    guild_id = str(interaction.guild_id) if interaction.guild_id is not None else guild_id
    guild = interaction.client.get_guild(int(guild_id)) if guild_id else None
    community = community_of(guild_id, guild)
    if community is None:
        return None
    return ButtonPress(
        action=action,
        value=value,
        actor=interaction_actor(interaction),
        community=community,
        place=interaction_place(interaction),
    )


def _inputs(components: Any) -> Iterator[Mapping[str, Any]]:
    """Yield every input of a modal submission, in action rows (legacy) or labels."""
    if not isinstance(components, list | tuple):
        return  # a malformed field reads as missing
    for component in components:
        if not isinstance(component, Mapping):
            continue
        if isinstance(component.get("custom_id"), str) and (
            "value" in component or "values" in component
        ):
            yield component
        yield from _inputs(component.get("components"))
        inner = component.get("component")
        if inner is not None:
            yield from _inputs([inner])


def form_values(data: Mapping[str, Any]) -> dict[str, str | bool]:
    """Read a modal submission's values: text as text, a yes/no select as a bool."""
    values: dict[str, str | bool] = {}
    for item in _inputs(data.get("components")):
        name = str(item["custom_id"])
        if item.get("type") == _STRING_SELECT or "values" in item:
            given = item.get("values")
            chosen = [c for c in given if isinstance(c, str)] if isinstance(given, list) else []
            if set(chosen) <= {YES, NO}:
                values[name] = chosen == [YES]
            else:
                values[name] = ",".join(chosen)
        else:
            value = item.get("value")
            values[name] = value if isinstance(value, str) else ""
    return values


def form_id_of(interaction: discord.Interaction[Any]) -> str | None:
    """Return our form id if the interaction submits one of our modals."""
    if interaction.type is not discord.InteractionType.modal_submit or not interaction.data:
        return None
    custom_id = interaction.data.get("custom_id")
    if not isinstance(custom_id, str):
        return None
    return custom_id[len(FORM_PREFIX) :] if custom_id.startswith(FORM_PREFIX) else None


def submission_from(interaction: discord.Interaction[Any]) -> FormSubmission | None:
    """Build the submission of one of our modals (None for anything else, or outside guilds)."""
    form_id = form_id_of(interaction)
    community = community_of(interaction.guild_id, interaction.guild)
    if form_id is None or community is None or interaction.data is None:
        return None
    return FormSubmission(
        form_id=form_id,
        values=dict(form_values(interaction.data)),
        actor=interaction_actor(interaction),
        community=community,
        place=interaction_place(interaction),
    )


def thread_message_from(message: discord.Message, bot_user_id: int | None) -> ThreadMessage | None:
    """Return a reply in one of the bot's threads (question threads), else None.

    Only threads the bot started can hold questions, so other chatter never reaches the core.
    """
    channel = message.channel
    if message.guild is None or message.author.bot or not isinstance(channel, discord.Thread):
        return None
    if message.type not in _REPLY_TYPES:
        return None  # "added someone to the thread", pins and the like are not replies
    if bot_user_id is None or channel.owner_id != bot_user_id:
        return None
    community = community_of(message.guild.id, message.guild)
    assert community is not None
    return ThreadMessage(
        message_id=str(message.id),
        actor=actor_of(message.author),
        community=community,
        place=place_of(channel),
    )
