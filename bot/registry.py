"""Declarative command specs, shared by every adapter.

One registry feeds the dispatcher, help, Slack's manifest and Discord's application commands,
so none of them can drift from the others.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from types import ModuleType
from typing import Any

from bot.limits import COMMAND_DESCRIPTION_MAX_CHARS, COMMAND_NAME_MAX_CHARS
from bot.replies import Form


class Access(IntEnum):
    """Who may run something; higher includes lower."""

    MEMBER = 0
    MODERATOR = 1
    ADMIN = 2


class ParamKind(StrEnum):
    """How a parameter is read from text and offered as a typed option."""

    WORD = "word"  # one word
    TEXT = "text"  # the rest of the line, verbatim
    INT = "int"
    FLAG = "flag"  # --name anywhere before the text; a yes/no option on Discord
    USER = "user"  # a mention
    CHANNEL = "channel"  # a channel reference
    CHOICE = "choice"  # one of `choices`


@dataclass(frozen=True, slots=True)
class Param:
    """One typed parameter of a command."""

    name: str
    kind: ParamKind
    description: str
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None


Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command (or a group of subcommands when it has no handler)."""

    path: tuple[str, ...]
    summary: str
    params: tuple[Param, ...] = ()
    access: Access = Access.MEMBER
    examples: tuple[str, ...] = ()
    # Slow commands are deferred/acked before the work starts (Slack and Discord: 3 s).
    slow: bool = False
    # The form a member gets when the command is given nothing. Adapters open it before any
    # other work, because opening one spends a trigger that lives 3 seconds (Slack) or must be
    # the interaction's first answer (Discord).
    form: Form | None = None
    handler: Handler | None = None

    @property
    def name(self) -> str:
        """Return the last word of the path."""
        return self.path[-1]

    @property
    def qualified(self) -> str:
        """Return the command as typed, e.g. `/crowdmentor questions`."""
        return "/" + " ".join(self.path)

    def usage(self) -> str:
        """Return a one-line usage string."""
        bits = [self.qualified]
        for param in self.params:
            label = param.name if param.kind is not ParamKind.CHOICE else "|".join(param.choices)
            if param.kind is ParamKind.FLAG:
                label = f"--{param.name}"
            elif param.kind is ParamKind.USER:
                label = f"@{param.name}"
            elif param.kind is ParamKind.CHANNEL:
                label = f"#{param.name}"
            bits.append(f"<{label}>" if param.required else f"[{label}]")
        return " ".join(bits)


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """A button handler, by stable action id."""

    action: str
    handler: Handler


@dataclass(frozen=True, slots=True)
class HookSpec:
    """A handler for forms, thread messages, timers or delivered messages, by name."""

    kind: str  # "form" | "thread_message" | "timer" | "delivered" | "export" | "forget"
    name: str
    handler: Handler


_SPEC_ATTR = "__crowdmentor_specs__"
NAME_PATTERN = re.compile(rf"^[a-z0-9][a-z0-9-]{{0,{COMMAND_NAME_MAX_CHARS - 1}}}$")


def _attach(fn: Handler, spec: object) -> Handler:
    specs = getattr(fn, _SPEC_ATTR, [])
    specs.append(spec)
    setattr(fn, _SPEC_ATTR, specs)
    return fn


def command(
    *path: str,
    summary: str,
    params: Iterable[Param] = (),
    access: Access = Access.MEMBER,
    examples: Iterable[str] = (),
    slow: bool = False,
    form: Form | None = None,
) -> Callable[[Handler], Handler]:
    """Declare an async function as the handler of a command."""

    def decorate(fn: Handler) -> Handler:
        spec = CommandSpec(
            path=tuple(path),
            summary=summary,
            params=tuple(params),
            access=access,
            examples=tuple(examples),
            slow=slow,
            form=form,
            handler=fn,
        )
        return _attach(fn, spec)

    return decorate


def group(*path: str, summary: str, access: Access = Access.MEMBER) -> CommandSpec:
    """Declare a command group (a command whose words are subcommands)."""
    return CommandSpec(path=tuple(path), summary=summary, access=access)


def action(name: str) -> Callable[[Handler], Handler]:
    """Declare an async function as the handler of a button's action id."""
    return lambda fn: _attach(fn, ActionSpec(name, fn))


def hook(kind: str, name: str) -> Callable[[Handler], Handler]:
    """Declare a handler for a form, thread message, timer or delivered message."""
    return lambda fn: _attach(fn, HookSpec(kind, name, fn))


def on_form(form_id: str) -> Callable[[Handler], Handler]:
    """Declare the handler of a submitted form."""
    return hook("form", form_id)


def on_thread_message(name: str) -> Callable[[Handler], Handler]:
    """Declare a listener for messages in threads."""
    return hook("thread_message", name)


def on_timer(kind: str) -> Callable[[Handler], Handler]:
    """Declare the handler of a timer kind."""
    return hook("timer", kind)


def on_delivered(name: str) -> Callable[[Handler], Handler]:
    """Declare what to record once an outbox message has been delivered."""
    return hook("delivered", name)


def on_export(name: str) -> Callable[[Handler], Handler]:
    """Declare what a capability holds about a member, for `/crowdmentor export`."""
    return hook("export", name)


def on_forget(name: str) -> Callable[[Handler], Handler]:
    """Declare how a capability deletes a member's data, for `/crowdmentor forget`."""
    return hook("forget", name)


class RegistryError(ValueError):
    """Two things claim one name, or a name would be refused by a platform."""


@dataclass
class Registry:
    """Every command, button, form and hook crowdmentor knows."""

    commands: dict[tuple[str, ...], CommandSpec] = field(default_factory=dict)
    actions: dict[str, ActionSpec] = field(default_factory=dict)
    hooks: dict[tuple[str, str], HookSpec] = field(default_factory=dict)

    def add(self, spec: CommandSpec | ActionSpec | HookSpec) -> None:
        """Register one spec; refuse duplicates and names a platform would reject."""
        match spec:
            case CommandSpec():
                self._check_command(spec)
                self.commands[spec.path] = spec
            case ActionSpec():
                if spec.action in self.actions:
                    raise RegistryError(f"duplicate action {spec.action!r}")
                self.actions[spec.action] = spec
            case HookSpec():
                key = (spec.kind, spec.name)
                if key in self.hooks:
                    raise RegistryError(f"duplicate {spec.kind} hook {spec.name!r}")
                self.hooks[key] = spec

    def _check_command(self, spec: CommandSpec) -> None:
        if spec.path in self.commands:
            raise RegistryError(f"duplicate command {spec.qualified!r}")
        if not 1 <= len(spec.path) <= 3:
            # Discord nests at most command → group → subcommand.
            raise RegistryError(f"{spec.qualified!r}: at most three words deep")
        for word in spec.path + tuple(p.name for p in spec.params):
            if not NAME_PATTERN.match(word):
                raise RegistryError(f"{spec.qualified!r}: {word!r} is not a valid command name")
        if not 1 <= len(spec.summary) <= COMMAND_DESCRIPTION_MAX_CHARS:
            raise RegistryError(f"{spec.qualified!r}: summary must be 1-100 characters")
        for param in spec.params:
            if not 1 <= len(param.description) <= COMMAND_DESCRIPTION_MAX_CHARS:
                raise RegistryError(f"{spec.qualified!r}: {param.name!r} description 1-100 chars")
        texts = [p for p in spec.params if p.kind is ParamKind.TEXT]
        if texts and spec.params[-1].kind is not ParamKind.TEXT:
            raise RegistryError(f"{spec.qualified!r}: a text parameter must come last")

    def validate(self) -> None:
        """Check the tree as a whole: groups exist and do not also run a handler."""
        for path, spec in self.commands.items():
            if len(path) > 1 and path[:-1] not in self.commands:
                raise RegistryError(f"{spec.qualified!r} has no parent group {path[:-1]!r}")
            if spec.handler is not None and any(self.children(path)):
                raise RegistryError(f"{spec.qualified!r} has both a handler and subcommands")

    def roots(self) -> list[CommandSpec]:
        """Return the top-level commands (each becomes one Slack slash command)."""
        return sorted((s for p, s in self.commands.items() if len(p) == 1), key=lambda s: s.path)

    def children(self, path: tuple[str, ...]) -> Iterator[CommandSpec]:
        """Yield the direct subcommands of `path`, in name order."""
        for child_path in sorted(self.commands):
            if len(child_path) == len(path) + 1 and child_path[: len(path)] == path:
                yield self.commands[child_path]

    def runnable(self) -> list[CommandSpec]:
        """Return every command that has a handler, in name order."""
        return [s for _, s in sorted(self.commands.items()) if s.handler is not None]

    def hook(self, kind: str, name: str) -> HookSpec | None:
        """Return the hook of that kind and name, if any."""
        return self.hooks.get((kind, name))

    def hooks_of(self, kind: str) -> list[HookSpec]:
        """Return every hook of a kind."""
        return [h for (k, _), h in sorted(self.hooks.items()) if k == kind]

    def load_module(self, module: ModuleType) -> None:
        """Register every spec a module declares."""
        for value in vars(module).values():
            if isinstance(value, CommandSpec) and value.handler is None:
                self.add(value)
            for spec in getattr(value, _SPEC_ATTR, ()) if callable(value) else ():
                if getattr(value, "__module__", None) == module.__name__:
                    self.add(spec)


# Core modules that declare hooks of their own (not commands).
CORE_HOOK_MODULES = ("bot.lifecycle",)


def build_registry(package: str = "bot.commands") -> Registry:
    """Import every public module of the commands package and register what it declares."""
    registry = Registry()
    for name in CORE_HOOK_MODULES:
        registry.load_module(importlib.import_module(name))
    root = importlib.import_module(package)
    for info in pkgutil.iter_modules(root.__path__):
        if info.name.startswith("_"):
            continue
        registry.load_module(importlib.import_module(f"{package}.{info.name}"))
    registry.validate()
    return registry
