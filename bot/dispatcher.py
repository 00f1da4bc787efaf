"""Turn what came in into a Reply: lookup, arguments, permission, one transaction, handler."""

from __future__ import annotations

import dataclasses
import difflib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.args import coerce_options, parse_text
from bot.context import Context, Services
from bot.errors import PermissionDeniedError, UserError
from bot.events import (
    SUBCOMMAND_OPTION,
    Actor,
    ButtonPress,
    Community,
    FormSubmission,
    Invocation,
    ThreadMessage,
)
from bot.lifecycle import community_removed, community_returned
from bot.limits import EXTERNAL_ID_MAX_CHARS, MESSAGE_REF_MAX_CHARS
from bot.logs import invocation_scope
from bot.registry import Access, CommandSpec
from bot.replies import Code, Form, Reply, Rich, rich
from bot.store.db import is_unavailable
from bot.store.models import Role
from bot.store.repositories import community_for, member_for, roles_of

log = logging.getLogger(__name__)

SORRY_UNAVAILABLE = (
    "I can't reach my database right now, so nothing was saved. "
    "Please try again in a moment: your text is below so you don't have to retype it."
)


# PostgreSQL text cannot hold NUL ("invalid byte sequence for encoding UTF8: 0x00"), so a NUL a
# member typed would fail the whole transaction. Source:
# https://www.postgresql.org/docs/15/datatype-character.html
_NUL = "\x00"


def _without_nul(value: Any) -> Any:
    """Return `value` with NUL characters dropped from every string in it."""
    if isinstance(value, str):
        return value.replace(_NUL, "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_without_nul(v) for v in value)
    return value


def _clean_actor(actor: Actor) -> Actor:
    return dataclasses.replace(
        actor, user_id=_without_nul(actor.user_id), display_name=_without_nul(actor.display_name)
    )


UNRECOGNISED = (
    "I can't tell which community, person or channel that came from, so nothing was changed."
)


def _recognisable(event: Invocation | ButtonPress | FormSubmission | ThreadMessage) -> bool:
    """Tell whether an event's ids could be real platform ids (and fit where they are stored)."""
    ids = (event.community.external_id, event.actor.user_id, event.place.channel_id)
    refs = (event.place.thread_id or "",)
    if isinstance(event, ThreadMessage):
        refs = (*refs, event.message_id)
    return (
        bool(event.community.external_id and event.actor.user_id)
        and all(len(value) <= EXTERNAL_ID_MAX_CHARS for value in ids)
        and all(len(value) <= MESSAGE_REF_MAX_CHARS for value in refs)
    )


def _sorry(invocation_id: str) -> Reply:
    return Reply.say(
        "Sorry, something went wrong on my side and nothing was changed. "
        "If it keeps happening, tell your admins and mention ",
        Code(invocation_id),
        ".",
    )


def _unavailable(text: str) -> Reply:
    if not text:
        return Reply.say("I can't reach my database right now. Please try again in a moment.")
    return Reply.say(SORRY_UNAVAILABLE, "\n", Code(text))


class Dispatcher:
    """The one entry point every adapter calls."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.database = services.database
        self.registry = services.registry
        self.clock = services.clock

    # ---- commands --------------------------------------------------------------------------

    def resolve(self, command: str, text: str) -> tuple[CommandSpec | None, str]:
        """Find the deepest command named by `command` and the leading words of `text`."""
        path: tuple[str, ...] = (command.lower().lstrip("/"),)
        if path not in self.registry.commands:
            return None, text
        rest = text.strip()
        while self.registry.commands[path].handler is None:
            word, _, remainder = rest.partition(" ")
            child = (*path, word.lower())
            if not word or child not in self.registry.commands:
                break
            path, rest = child, remainder.strip()
        return self.registry.commands[path], rest

    def unknown(self, command: str, text: str) -> Reply:
        """Say what exists instead, with the closest match first."""
        spec, rest = self.resolve(command, text)
        if spec is None:
            names = [s.name for s in self.registry.roots()]
            close = difflib.get_close_matches(command.lower().lstrip("/"), names, n=1, cutoff=0.5)
            hint = rich(" Did you mean ", Code(f"/{close[0]}"), "?") if close else Rich()
            return Reply.say(
                "I don't know ", Code(f"/{command.lstrip('/')}"), ".", hint,
                " Try ", Code("/crowdmentor help"), ".",
            )  # fmt: skip
        word = rest.partition(" ")[0]
        options = [child.name for child in self.registry.children(spec.path)]
        close = difflib.get_close_matches(word.lower(), options, n=1, cutoff=0.5)
        hint = (
            rich(" Did you mean ", Code(f"{spec.qualified} {close[0]}"), "?") if close else Rich()
        )
        choices = ", ".join(options)
        said = rich("“", word, "” isn't a subcommand of ") if word else rich("Please choose from ")
        return Reply.say(said, Code(spec.qualified), f" ({choices}).", hint)

    def _command_spec(
        self, command: str, text: str, options: dict[str, Any] | None
    ) -> tuple[CommandSpec | None, str]:
        spec, rest = self.resolve(command, text)
        if options is not None and spec is not None:
            sub = options.get(SUBCOMMAND_OPTION)
            if sub:
                spec = self.registry.commands.get((*spec.path, *sub), spec)
        return spec, rest

    def form_first(
        self, command: str, text: str = "", options: dict[str, Any] | None = None
    ) -> Form | None:
        """Return the form a member command given nothing opens, without touching the database.

        Adapters call this before queueing a command's work: the form must open while its
        trigger is alive, however much other work is waiting.
        """
        spec, rest = self._command_spec(command, text, options)
        given = rest or any(
            value not in (None, False, "")
            for name, value in (options or {}).items()
            if name != SUBCOMMAND_OPTION
        )
        if spec is None or spec.form is None or spec.access is not Access.MEMBER or given:
            return None
        return spec.form

    async def dispatch(self, invocation: Invocation) -> Reply:
        """Run a command and return what to answer; never raises."""
        invocation = dataclasses.replace(
            invocation,
            text=_without_nul(invocation.text),
            options=_without_nul(invocation.options),
            actor=_clean_actor(invocation.actor),
        )
        with invocation_scope(invocation.invocation_id):
            spec, rest = self._command_spec(invocation.command, invocation.text, invocation.options)
            if spec is None or spec.handler is None:
                return self.unknown(invocation.command, invocation.text)
            log.info("command %s by %s", spec.qualified, invocation.actor.user_id)

            async def run(ctx: Context) -> Reply:
                await self._require(ctx, spec.access)
                if invocation.options is not None:
                    kwargs = coerce_options(spec, invocation.options)
                else:
                    kwargs = parse_text(spec, rest)
                assert spec.handler is not None
                return await spec.handler(ctx, **kwargs)

            return await self._in_unit_of_work(invocation, run, echo=invocation.text)

    async def press(self, press: ButtonPress) -> Reply:
        """Run a button's handler (its value is checked by the handler, never trusted)."""
        press = dataclasses.replace(
            press, value=_without_nul(press.value), actor=_clean_actor(press.actor)
        )
        with invocation_scope(press.invocation_id):
            spec = self.registry.actions.get(press.action)
            if spec is None:
                log.warning("unknown action %r", press.action)
                return Reply.say("That button is no longer in use. Nothing was changed.")
            log.info("action %s by %s", press.action, press.actor.user_id)

            async def run(ctx: Context) -> Reply:
                return await spec.handler(ctx, press.value)

            return await self._in_unit_of_work(press, run)

    async def submit(self, submission: FormSubmission) -> Reply:
        """Run a submitted form's handler."""
        submission = dataclasses.replace(
            submission,
            values=_without_nul(submission.values),
            actor=_clean_actor(submission.actor),
        )
        with invocation_scope(submission.invocation_id):
            spec = self.registry.hook("form", submission.form_id)
            if spec is None:
                return Reply.say("That form has expired. Please run the command again.")
            values = {k: v for k, v in submission.values.items() if isinstance(k, str)}

            async def run(ctx: Context) -> Reply:
                return await spec.handler(ctx, values)

            echo = str(values.get("question") or "")
            return await self._in_unit_of_work(submission, run, echo=echo)

    async def message(self, message: ThreadMessage) -> None:
        """Offer a thread message to every listener (reply counting, credit)."""
        if message.actor.is_bot or not message.place.thread_id:
            return
        message = dataclasses.replace(message, actor=_clean_actor(message.actor))
        with invocation_scope(message.invocation_id):
            for spec in self.registry.hooks_of("thread_message"):

                async def run(ctx: Context, handler: Any = spec.handler) -> None:
                    await handler(ctx, message)

                await self._in_unit_of_work(message, run, quiet=True)

    async def community_removed(self, community: Community) -> None:
        """Schedule a community's data for deletion (uninstall, guild removal)."""
        await community_removed(self.services, community)
        log.info("community %s:%s removed", community.platform, community.external_id)

    async def community_returned(self, community: Community) -> None:
        """Cancel a pending deletion: the bot was installed or invited again."""
        await community_returned(self.services, community)
        log.info("community %s:%s is back", community.platform, community.external_id)

    # ---- shared machinery ------------------------------------------------------------------

    async def _require(self, ctx: Context, needed: Access) -> None:
        if ctx.access < needed:
            who = "admins" if needed is Access.ADMIN else "moderators and admins"
            raise PermissionDeniedError(f"Only {who} can do that here.")

    async def _access(self, ctx: Context) -> Access:
        assert ctx.actor is not None
        assert ctx.member is not None
        if ctx.actor.is_platform_admin:
            return Access.ADMIN
        roles = await roles_of(ctx.session, ctx.member)
        if Role.ADMIN in roles:
            return Access.ADMIN
        if Role.MODERATOR in roles:
            return Access.MODERATOR
        return Access.MEMBER

    async def _in_unit_of_work(
        self,
        event: Invocation | ButtonPress | FormSubmission | ThreadMessage,
        run: Callable[[Context], Awaitable[Any]],
        *,
        echo: str = "",
        quiet: bool = False,
    ) -> Any:
        if not _recognisable(event):
            log.warning("ignored an event with ids no platform gives")
            return None if quiet else Reply.say(UNRECOGNISED)
        try:
            async with self.database.unit_of_work() as uow:
                now = self.clock.now()
                community = await community_for(uow.session, event.community, now)
                member = await member_for(uow.session, community, event.actor, now)
                ctx = self.services.context(
                    uow,
                    community,
                    invocation_id=event.invocation_id,
                    member=member,
                    actor=event.actor,
                    place=event.place,
                )
                ctx.access = await self._access(ctx)
                return await run(ctx)
        except UserError as error:
            # Nothing the member asked for was written: the transaction rolled back.
            return error.reply or Reply(text=error.rich)
        except Exception as error:
            if is_unavailable(error):
                log.warning("database unavailable: %s", error)
                return None if quiet else _unavailable(echo)
            log.exception("handler failed")
            return None if quiet else _sorry(event.invocation_id)
