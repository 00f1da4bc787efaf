"""Render replies as terminal text."""

from __future__ import annotations

import re

from bot.replies import (
    Bold,
    Button,
    ChannelLink,
    Code,
    Form,
    Italic,
    Mention,
    Quote,
    Reply,
    Rich,
    Visibility,
)

# Control characters (including ESC) in member text could repaint someone's terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _clean(text: str) -> str:
    return _CONTROL.sub("", text)


class ConsoleRenderer:
    """Turn replies into lines, with ANSI emphasis when the terminal supports it."""

    def __init__(self, *, color: bool) -> None:
        self.color = color

    def _style(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def rich(self, value: Rich, indent: str = "") -> str:
        """Render inline parts."""
        out: list[str] = []
        for part in value.parts:
            match part:
                case str():
                    out.append(_clean(part))
                case Bold():
                    out.append(self._style("1", _clean(part.text)))
                case Italic():
                    out.append(self._style("3", _clean(part.text)))
                case Code():
                    out.append(self._style("36", f"`{_clean(part.text)}`"))
                case Mention():
                    out.append(self._style("35", f"@{_clean(part.display_name)}"))
                case ChannelLink():
                    out.append(self._style("34", f"#{_clean(part.name or part.channel_id)}"))
                case Quote():
                    quoted = "\n".join(f"  │ {line}" for line in _clean(part.text).splitlines())
                    out.append(f"\n{quoted}\n" if quoted else "")
        text = "".join(out).replace("\n\n\n", "\n\n").strip("\n")
        return "\n".join(indent + line for line in text.splitlines())

    def button(self, button: Button) -> str:
        """Render a button with the console line that presses it."""
        label = self._style("7", f" {_clean(button.label)} ")
        return f"[{label}] → :press {_clean(button.action)} {_clean(button.value)}".rstrip()

    def reply(self, reply: Reply, indent: str = "  ") -> str:
        """Render a whole reply as an indented block."""
        blocks = []
        if reply.text:
            blocks.append(self.rich(reply.text, indent))
        for section in reply.sections:
            if section.heading:
                blocks.append(self.rich(section.heading, indent))
            blocks.append(self.rich(section.body, indent))
        if reply.buttons:
            blocks.append("\n".join(indent + self.button(b) for b in reply.buttons))
        return "\n".join(block for block in blocks if block.strip())

    def header(self, where: str, who: str, visibility: Visibility, *, edited: bool = False) -> str:
        """Return the line that introduces a message."""
        note = {
            Visibility.ONLY_YOU: " (only you can see this)",
            Visibility.DIRECT: " (direct message)",
            Visibility.GROUP: " (group conversation)",
        }.get(visibility, "")
        edit = " (edited)" if edited else ""
        return (
            self._style("2", f"[{where}] ") + self._style("1", who) + self._style("2", note + edit)
        )

    def form_intro(self, form: Form) -> str:
        """Introduce a form the console will ask field by field."""
        return self._style("1", form.title) + self._style("2", " (empty line skips a field)")
