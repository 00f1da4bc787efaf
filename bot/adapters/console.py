"""The console: crowdmentor with no tokens, as a REPL or one-shot `--execute` lines.

Lines starting with `/` are commands; lines starting with `:` talk to the console itself
(`:help` lists them); anything else is a message in the current thread or channel.
"""

from __future__ import annotations

import asyncio
import shlex
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.adapters.console_render import ConsoleRenderer
from bot.adapters.local import LocalMessage, LocalPlatform
from bot.adapters.text_input import parse_command_line
from bot.app import App
from bot.durations import describe, parse_duration
from bot.events import Actor, ButtonPress, Community, FormSubmission, Place, ThreadMessage
from bot.replies import FieldKind, Form, Reply, Visibility

CONSOLE_COMMUNITY = Community(platform="console", external_id="local", name="console")
BOT_NAME = "crowdmentor"

CONSOLE_HELP = """\
Console commands:
  /ask …, /crowdmentor …     run a crowdmentor command (/crowdmentor help lists them)
  :as NAME                  become someone else (admins: see config [console] admins)
  :in #CHANNEL              move to another channel
  :thread q12               enter question #12's thread: plain lines become replies there
  :leave                    leave the thread
  :reply q12 TEXT           reply in question #12's thread without entering it
  :press ACTION VALUE       press a button (each button shows its :press line)
  :time +2d                 move time forward (m, h, d, w) and run what falls due
  :help                     this list
  :quit                     leave the console (everything is kept for next time)
Anything else is a message in the current thread, or in the channel."""


@dataclass
class ConsoleState:
    """Who and where the console user is."""

    user: str
    channel: str
    thread: str | None = None


class ConsoleSession:
    """Reads console lines, dispatches them and prints what happens."""

    def __init__(
        self,
        app: App,
        platform: LocalPlatform,
        *,
        user: str,
        channel: str,
        write: Callable[[str], None] = print,
        color: bool = False,
        ask: Callable[[str], str] | None = None,
    ) -> None:
        self.app = app
        self.platform = platform
        self.state = ConsoleState(user=user, channel=channel.lstrip("#"))
        self.write = write
        self.render = ConsoleRenderer(color=color)
        self.ask = ask  # None: no keyboard (--execute), forms fall back to their text
        platform.on_message = self._show_delivered

    # ---- who, where ------------------------------------------------------------------------

    def actor(self) -> Actor:
        """Return the console user as an Actor."""
        name = self.state.user
        return Actor(
            user_id=name,
            display_name=name,
            is_platform_admin=name in self.app.settings.console.admins,
        )

    def place(self) -> Place:
        """Return the current channel (and thread)."""
        return Place(
            channel_id=self.state.channel,
            thread_id=self.state.thread,
            channel_name=self.state.channel,
        )

    def where(self, channel: str, thread: str | None = None) -> str:
        """Return a label for a channel, a conversation or a thread."""
        if channel.startswith("dm:"):
            place = "DM " + ", ".join(f"@{name}" for name in channel[3:].split(","))
        else:
            place = f"#{channel}"
        return f"{place} › {thread}" if thread else place

    # ---- output ----------------------------------------------------------------------------

    def _show_delivered(self, message: LocalMessage, edited: bool) -> None:
        where = self.where(message.channel_id, message.thread_id)
        header = self.render.header(where, BOT_NAME, message.reply.visibility, edited=edited)
        body = self.render.reply(message.reply)
        self.write(f"{header}\n{body}")
        if message.opened_thread and not edited:
            self.write(f"  (thread {message.opened_thread}: `:thread {message.opened_thread}`)")

    def show_reply(self, reply: Reply) -> None:
        """Print a direct answer to the console user."""
        where = self.where(self.state.channel, self.state.thread)
        header = self.render.header(where, BOT_NAME, reply.visibility)
        self.write(f"{header}\n{self.render.reply(reply)}")
        for attachment in reply.files:
            # The console's "download": a file in the current directory, named for its owner.
            stem, dot, suffix = attachment.filename.rpartition(".")
            path = Path(f"{stem}-{self.state.user}{dot}{suffix}" if dot else attachment.filename)
            path.write_text(attachment.content, encoding="utf-8")
            self.write(f"  (file saved: {path.resolve()})")

    # ---- input -----------------------------------------------------------------------------

    async def handle(self, line: str) -> bool:
        """Handle one line; return False when the console should end."""
        line = line.strip()
        if not line:
            return True
        if line.startswith(":"):
            return await self._meta(line)
        if line.startswith("/"):
            await self._command(line)
        elif self.state.thread:
            await self._thread_reply(self.state.thread, line)
        else:
            self.write(
                f"  (said in #{self.state.channel}. Commands start with /, "
                "and `:thread q12` lets you reply in a question's thread.)"
            )
        await self.settle()
        return True

    async def settle(self) -> None:
        """Deliver whatever the last line queued, so output follows input."""
        await self.app.delivery.drain()

    async def _command(self, line: str) -> None:
        invocation = parse_command_line(line, self.actor(), CONSOLE_COMMUNITY, self.place())
        reply = await self.app.dispatcher.dispatch(invocation)
        await self._answer(reply)

    async def _answer(self, reply: Reply) -> None:
        if reply.form is not None and self.ask is not None:
            await self._fill(reply.form)
            return
        self.show_reply(reply)

    async def _fill(self, form: Form) -> None:
        self.write(self.render.form_intro(form))
        values: dict[str, object] = {}
        for form_field in form.fields:
            assert self.ask is not None
            suffix = " [y/N]" if form_field.kind is FieldKind.YES_NO else ""
            answer = await asyncio.to_thread(self.ask, f"  {form_field.label}{suffix}: ")
            if form_field.kind is FieldKind.YES_NO:
                values[form_field.name] = answer.strip().lower() in {"y", "yes"}
            else:
                values[form_field.name] = answer.strip()
        submission = FormSubmission(
            form.form_id, values, self.actor(), CONSOLE_COMMUNITY, self.place()
        )
        self.show_reply(await self.app.dispatcher.submit(submission))

    async def _thread_reply(self, thread: str, text: str) -> None:
        where = self.where(self.state.channel, thread)
        self.write(self.render.header(where, self.state.user, Visibility.THREAD) + f"\n  {text}")
        message = ThreadMessage(
            message_id=f"c-{uuid.uuid4().hex[:12]}",
            actor=self.actor(),
            community=CONSOLE_COMMUNITY,
            place=Place(self.state.channel, thread, channel_name=self.state.channel),
        )
        await self.app.dispatcher.message(message)

    async def _meta(self, line: str) -> bool:
        try:
            words = shlex.split(line[1:])
        except ValueError:
            words = line[1:].split()
        if not words:
            return True
        verb, args = words[0].lower(), words[1:]
        match verb:
            case "quit" | "exit" | "q":
                return False
            case "help":
                self.write(CONSOLE_HELP)
            case "as" if args:
                self.state.user = args[0].lstrip("@")
                self.write(f"  (you are now @{self.state.user})")
            case "in" if args:
                self.state.channel, self.state.thread = args[0].lstrip("#"), None
                self.write(f"  (you are now in #{self.state.channel})")
            case "thread" if args:
                self.state.thread = args[0]
                self.write(f"  (in thread {args[0]}: plain lines are replies; `:leave` to leave)")
            case "leave":
                self.state.thread = None
                self.write(f"  (back in #{self.state.channel})")
            case "reply" if len(args) >= 2:
                await self._thread_reply(args[0], " ".join(args[1:]))
            case "press" if args:
                press = ButtonPress(
                    action=args[0],
                    value=args[1] if len(args) > 1 else "",
                    actor=self.actor(),
                    community=CONSOLE_COMMUNITY,
                    place=self.place(),
                )
                await self._answer(await self.app.dispatcher.press(press))
            case "time" if args:
                await self._travel(args[0])
            case _:
                self.write(f"  (unknown console command {line!r}; `:help` lists them)")
        await self.settle()
        return True

    async def _travel(self, text: str) -> None:
        try:
            delta = parse_duration(text)
        except ValueError as error:
            self.write(f"  ({error})")
            return
        self.app.clock.advance(delta)
        self.write(f"  (time moves forward {describe(delta)})")
        await self.app.scheduler.run_due()


async def run_console(
    app: App,
    *,
    user: str,
    channel: str,
    lines: list[str] | None = None,
) -> int:
    """Run the console: the given lines then exit, or a REPL on stdin."""
    platform = LocalPlatform(platform="console")
    app.add_adapter(platform)
    interactive = lines is None
    session = ConsoleSession(
        app,
        platform,
        user=user,
        channel=channel,
        color=interactive and sys.stdout.isatty(),
        ask=input if interactive else None,
    )
    async with app.running(background=interactive):
        await session.settle()  # anything left from last time
        if lines is not None:
            for line in lines:
                session.write(f"» {line}")
                if not await session.handle(line):
                    break
            return 0
        session.write(
            f"crowdmentor console: you are @{user} in #{channel}. "
            "Type /crowdmentor help, or :help for console commands."
        )
        while True:
            state = session.state
            prompt = f"{session.where(state.channel, state.thread)} @{state.user}> "
            try:
                line = await asyncio.to_thread(input, prompt)
            except EOFError:
                break
            if not await session.handle(line):
                break
    return 0
