"""Discord application commands, generated from the registry, and syncing them only on change.

Each registry root becomes one top-level slash command; registry groups become subcommand
groups and their commands subcommands (Discord nests exactly as deep as the registry allows).
A parameter's kind becomes a typed option, its description the option's description.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord_render import shorten
from bot.limits import COMMAND_DESCRIPTION_MAX_CHARS
from bot.registry import CommandSpec, Param, ParamKind, Registry

log = logging.getLogger(__name__)

# Discord allows at most 25 options per command and 25 choices per option. Source:
# https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-option-structure
OPTIONS_MAX = 25
CHOICES_MAX = 25

# Where commands may be used: inside servers only (a DM has no community), installed to servers.
# Source: https://discord.com/developers/docs/interactions/application-commands#interaction-contexts
GUILD_ONLY = app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)
GUILD_INSTALL = app_commands.AppInstallationType(guild=True, user=False)

CommandRunner = Callable[[discord.Interaction[Any], CommandSpec, dict[str, Any]], Awaitable[None]]
AppCommand = app_commands.Command[Any, ..., Any] | app_commands.Group


class ChannelOption(app_commands.Transformer):
    """A channel option limited to channels that hold messages, taken as Discord resolved it."""

    # Categories and threads cannot hold a question post; everything else can.
    CHANNEL_TYPES = (
        discord.ChannelType.text,
        discord.ChannelType.news,
        discord.ChannelType.forum,
        discord.ChannelType.media,
        discord.ChannelType.voice,
    )

    @property
    def type(self) -> discord.AppCommandOptionType:
        """Return the option type: a channel."""
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        """Return the channel types members may pick."""
        return list(self.CHANNEL_TYPES)

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> Any:
        """Keep the resolved channel (no cache or fetch needed)."""
        del interaction
        return value


def _describe(text: str) -> str:
    return shorten(text, COMMAND_DESCRIPTION_MAX_CHARS) or "…"


def _annotation(param: Param) -> Any:
    match param.kind:
        case ParamKind.INT:
            if param.min_value is None and param.max_value is None:
                return int
            return app_commands.Range[int, param.min_value, param.max_value]
        case ParamKind.FLAG:
            return bool
        case ParamKind.USER:
            return discord.User
        case ParamKind.CHANNEL:
            return app_commands.Transform[app_commands.AppCommandChannel, ChannelOption]
        case _:  # WORD, TEXT, CHOICE
            if param.max_length:
                return app_commands.Range[str, None, param.max_length]
            return str


def _callback(spec: CommandSpec, run: CommandRunner) -> Callable[..., Awaitable[None]]:
    """Make a callback whose signature discord.py reads as the command's typed options."""
    params = list(spec.params[:OPTIONS_MAX])
    # Python names are positional stand-ins; Discord sees the registry's names (which may hold
    # hyphens) through renames.
    names = {f"p{index}": param for index, param in enumerate(params)}

    async def callback(interaction: discord.Interaction[Any], **values: Any) -> None:
        await run(interaction, spec, {names[key].name: value for key, value in values.items()})

    signature = [
        inspect.Parameter(
            "interaction",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=discord.Interaction,
        )
    ]
    for key, param in names.items():
        signature.append(
            inspect.Parameter(
                key,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_annotation(param),
                default=inspect.Parameter.empty if param.required else None,
            )
        )
    callback.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    callback.__qualname__ = callback.__name__ = "_".join(spec.path).replace("-", "_")
    described = {key: _describe(param.description) for key, param in names.items()}
    callback = app_commands.describe(**described)(callback)
    callback = app_commands.rename(**{key: param.name for key, param in names.items()})(callback)
    choices = {
        key: [app_commands.Choice(name=c, value=c) for c in param.choices[:CHOICES_MAX]]
        for key, param in names.items()
        if param.kind is ParamKind.CHOICE and param.choices
    }
    if choices:
        callback = app_commands.choices(**choices)(callback)
    return callback


def _node(
    registry: Registry, spec: CommandSpec, parent: app_commands.Group | None, run: CommandRunner
) -> AppCommand:
    children = list(registry.children(spec.path))
    node: AppCommand
    if children:
        node = app_commands.Group(name=spec.name, description=_describe(spec.summary))
        for child in children:
            _node(registry, child, node, run)
    else:
        node = app_commands.Command(
            name=spec.name,
            description=_describe(spec.summary),
            callback=_callback(spec, run),
            extras={"crowdmentor_path": spec.path},
        )
    if parent is not None:
        parent.add_command(node)
    return node


def build_commands(registry: Registry, run: CommandRunner) -> list[AppCommand]:
    """Return one top-level command (or group) per registry root."""
    return [_node(registry, root, None, run) for root in registry.roots()]


def install(tree: app_commands.CommandTree[Any], registry: Registry, run: CommandRunner) -> None:
    """Put the registry's commands on a command tree (replacing what it held)."""
    tree.clear_commands(guild=None)
    for command in build_commands(registry, run):
        tree.add_command(command)


def command_payload(tree: app_commands.CommandTree[Any]) -> list[dict[str, Any]]:
    """Return what `tree.sync()` would send to Discord."""
    return [command.to_dict(tree) for command in tree.get_commands()]


_BOUNDS = ("min_value", "max_value", "min_length", "max_length")


def _canonical_option(option: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": option["name"],
        "description": option.get("description") or "",
        "type": int(option.get("type") or 1),
    }
    if option.get("required"):
        out["required"] = True
    if option.get("choices"):
        out["choices"] = [[c["name"], c["value"]] for c in option["choices"]]
    if option.get("channel_types"):
        out["channel_types"] = sorted(int(t) for t in option["channel_types"])
    for key in _BOUNDS:
        if option.get(key) is not None:
            out[key] = option[key]
    if option.get("autocomplete"):
        out["autocomplete"] = True
    if option.get("options"):
        out["options"] = [_canonical_option(o) for o in option["options"]]
    return out


def fingerprint(payload: Sequence[Mapping[str, Any]]) -> str:
    """Return a hash of what matters in a command list (Discord adds ids and versions).

    Contexts and install types are left out: they are constants here, and discord.py 2.7.1
    reads the guild context back as none, so comparing them would sync on every start.
    """
    canonical = sorted((_canonical_option(command) for command in payload), key=lambda c: c["name"])
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


async def sync_if_changed(tree: app_commands.CommandTree[Any]) -> bool:
    """Sync the global commands only when Discord's differ from ours; return whether it synced.

    Comparing with what Discord holds (one request) needs no local state, so it works the same
    for several instances, a fresh container, or commands someone deleted by hand.
    """
    ours = fingerprint(command_payload(tree))
    try:
        remote = await tree.fetch_commands()
    except discord.HTTPException as error:
        log.warning("could not read Discord's application commands (%s); syncing", error)
    else:
        if fingerprint([command.to_dict() for command in remote]) == ours:
            log.info("application commands unchanged; not syncing")
            return False
    synced = await tree.sync()
    log.info("synced %d application commands", len(synced))
    return True
