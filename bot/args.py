"""Read typed arguments from a text line (console, Slack) using a command's parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.errors import BadArgumentsError
from bot.registry import CommandSpec, Param, ParamKind


@dataclass(frozen=True, slots=True)
class UserRef:
    """A person named in a command: by platform id when known, else by typed name."""

    user_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A channel named in a command."""

    channel_id: str
    name: str = ""


# Slack escapes mentions as <@U123> or <@U123|name>; Discord as <@123> or <@!123>.
# Ids are bounded as the store bounds them (bot.limits.EXTERNAL_ID_MAX_CHARS).
_USER_TOKEN = re.compile(r"^<@!?([A-Za-z0-9]{1,64})(?:\|([^>]*))?>$")
_CHANNEL_TOKEN = re.compile(r"^<#([A-Za-z0-9]{1,64})(?:\|([^>]*))?>$")
_PLAIN_USER = re.compile(r"^@([\w.\-]{1,80})$")
_PLAIN_CHANNEL = re.compile(r"^#([\w\-]{1,80})$")


def parse_user(token: str) -> UserRef | None:
    """Read a user mention token."""
    if match := _USER_TOKEN.match(token):
        return UserRef(user_id=match.group(1), name=match.group(2))
    if match := _PLAIN_USER.match(token):
        return UserRef(name=match.group(1))
    return None


def parse_channel(token: str) -> ChannelRef | None:
    """Read a channel reference token."""
    if match := _CHANNEL_TOKEN.match(token):
        return ChannelRef(match.group(1), match.group(2) or "")
    if match := _PLAIN_CHANNEL.match(token):
        return ChannelRef(match.group(1), match.group(1))
    return None


def _convert(param: Param, token: str, spec: CommandSpec) -> Any:
    match param.kind:
        case ParamKind.WORD:
            return token
        case ParamKind.INT:
            try:
                value = int(token.lstrip("#"))
            except ValueError:
                raise BadArgumentsError(
                    f"“{token}” isn't a number. Usage: {spec.usage()}"
                ) from None
            if param.min_value is not None and value < param.min_value:
                raise BadArgumentsError(f"{param.name} must be at least {param.min_value}.")
            if param.max_value is not None and value > param.max_value:
                raise BadArgumentsError(f"{param.name} can be at most {param.max_value}.")
            return value
        case ParamKind.CHOICE:
            if token.lower() not in param.choices:
                raise BadArgumentsError(
                    f"“{token}” isn't one of {', '.join(param.choices)}. Usage: {spec.usage()}"
                )
            return token.lower()
        case ParamKind.USER:
            if (user := parse_user(token)) is None:
                raise BadArgumentsError(f"“{token}” isn't a person. Usage: {spec.usage()}")
            return user
        case ParamKind.CHANNEL:
            if (channel := parse_channel(token)) is None:
                raise BadArgumentsError(f"“{token}” isn't a channel. Usage: {spec.usage()}")
            return channel
    raise AssertionError(param.kind)  # pragma: no cover - TEXT and FLAG are handled by caller


def parse_text(spec: CommandSpec, text: str) -> dict[str, Any]:
    """Read `text` into keyword arguments for `spec`'s handler."""
    values: dict[str, Any] = {}
    flags = {p.name: p for p in spec.params if p.kind is ParamKind.FLAG}
    positional = [p for p in spec.params if p.kind is not ParamKind.FLAG]
    rest = text.strip()
    for name in flags:
        values[name] = False
    # Flags are read from the front, so a question may still contain "--" later on.
    while rest.startswith("--"):
        word, _, remainder = rest.partition(" ")
        name = word[2:].lower()
        if name not in flags:
            break
        values[name] = True
        rest = remainder.lstrip()
    for index, param in enumerate(positional):
        if param.kind is ParamKind.TEXT:
            value = rest.strip()
            rest = ""
            if value:
                values[param.name] = value
            elif param.required:
                raise BadArgumentsError(f"Missing {param.name}. Usage: {spec.usage()}")
            continue
        token, _, remainder = rest.partition(" ")
        if not token:
            if param.required:
                raise BadArgumentsError(f"Missing {param.name}. Usage: {spec.usage()}")
            continue
        optional_choice = param.kind is ParamKind.CHOICE and not param.required
        if optional_choice and token.lower() not in param.choices and index + 1 < len(positional):
            # An optional choice may be left out: the word belongs to the next parameter.
            continue
        values[param.name] = _convert(param, token, spec)
        rest = remainder.lstrip()
    if rest:
        raise BadArgumentsError(f"I didn't understand “{rest}”. Usage: {spec.usage()}")
    return values


# The one resolved-reference type each option kind accepts.
_REF_OF: dict[ParamKind, type] = {ParamKind.USER: UserRef, ParamKind.CHANNEL: ChannelRef}


def coerce_options(spec: CommandSpec, options: dict[str, Any]) -> dict[str, Any]:
    """Check already-typed options (Discord) against `spec`, with the same rules as text."""
    values: dict[str, Any] = {}
    for param in spec.params:
        value = options.get(param.name)
        if value is None or value == "":
            if param.kind is ParamKind.FLAG:
                values[param.name] = False
            elif param.required:
                raise BadArgumentsError(f"Missing {param.name}. Usage: {spec.usage()}")
            continue
        if param.kind is ParamKind.FLAG:
            values[param.name] = bool(value)
        elif param.kind is ParamKind.TEXT:
            values[param.name] = str(value).strip()
        elif isinstance(value, _REF_OF.get(param.kind, ())):
            values[param.name] = value
        elif isinstance(value, UserRef | ChannelRef):
            # A person where a channel belongs (or the reverse) is not trusted as either.
            what = "person" if param.kind is ParamKind.USER else "channel"
            raise BadArgumentsError(f"{param.name} must be a {what}. Usage: {spec.usage()}")
        else:
            values[param.name] = _convert(param, str(value), spec)
    return values
