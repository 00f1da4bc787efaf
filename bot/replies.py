"""What goes out: a platform-neutral reply that every adapter knows how to render.

Text is built from inline parts rather than a markup string, so that what a member typed is
always literal: an adapter escapes plain `str` parts for its platform and turns `Mention`,
`Bold` and friends into its own syntax. User text can therefore never smuggle in a ping.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class Bold:
    """Emphasised literal text."""

    text: str


@dataclass(frozen=True, slots=True)
class Italic:
    """Quiet, secondary literal text."""

    text: str


@dataclass(frozen=True, slots=True)
class Code:
    """Something to type: a command, an id."""

    text: str


@dataclass(frozen=True, slots=True)
class Mention:
    """A person, rendered so that the platform notifies them (or shows their name)."""

    user_id: str
    display_name: str


@dataclass(frozen=True, slots=True)
class ChannelLink:
    """A channel reference."""

    channel_id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Quote:
    """A block of literal text set apart (a question, a member's note)."""

    text: str


Inline = str | Bold | Italic | Code | Mention | ChannelLink | Quote


@dataclass(frozen=True, slots=True)
class Rich:
    """A run of inline parts."""

    parts: tuple[Inline, ...] = ()

    def plain(self) -> str:
        """Return the text without any formatting (logs, search, fallbacks)."""
        out: list[str] = []
        for part in self.parts:
            match part:
                case str():
                    out.append(part)
                case Mention():
                    out.append(f"@{part.display_name}")
                case ChannelLink():
                    out.append(f"#{part.name or part.channel_id}")
                case _:
                    out.append(part.text)
        return "".join(out)

    def __add__(self, other: Rich) -> Rich:
        return Rich(self.parts + other.parts)

    def __bool__(self) -> bool:
        return any(self.parts)


def rich(*parts: Inline | Rich | None) -> Rich:
    """Join parts (and other `Rich` runs) into one run, skipping `None`."""
    flat: list[Inline] = []
    for part in parts:
        if part is None:
            continue
        if isinstance(part, Rich):
            flat.extend(part.parts)
        else:
            flat.append(part)
    return Rich(tuple(flat))


def as_rich(value: str | Rich) -> Rich:
    """Return `value` as a run; a plain string is literal text."""
    return value if isinstance(value, Rich) else Rich((value,))


class Visibility(StrEnum):
    """Who sees a reply."""

    ONLY_YOU = "only_you"  # ephemeral: Slack ephemeral, Discord ephemeral, console aside
    CHANNEL = "channel"
    THREAD = "thread"
    DIRECT = "direct"
    GROUP = "group"


class ButtonStyle(StrEnum):
    """How prominent a button is."""

    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Button:
    """A button with a stable action id; the value is re-verified when pressed, never trusted."""

    action: str
    label: str
    value: str = ""
    style: ButtonStyle = ButtonStyle.DEFAULT


@dataclass(frozen=True, slots=True)
class Section:
    """A block of the reply, with an optional heading."""

    body: Rich
    heading: Rich | None = None


class FieldKind(StrEnum):
    """What a form field collects."""

    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    YES_NO = "yes_no"


@dataclass(frozen=True, slots=True)
class FormField:
    """One input of a form."""

    name: str
    label: str
    kind: FieldKind = FieldKind.SHORT_TEXT
    required: bool = False
    max_length: int | None = None
    placeholder: str = ""


@dataclass(frozen=True, slots=True)
class Form:
    """A request to open a form; the adapter answers with a `FormSubmission`."""

    form_id: str
    title: str
    fields: tuple[FormField, ...]
    submit_label: str = "Submit"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file handed to the member (a data export); only sent privately, never queued."""

    filename: str
    content: str
    media_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class Reply:
    """Everything a handler can say back.

    `form` is shown instead of the text on platforms that have forms; the text is the fallback
    (and the guidance) everywhere else.
    """

    text: Rich = field(default_factory=Rich)
    sections: tuple[Section, ...] = ()
    buttons: tuple[Button, ...] = ()
    form: Form | None = None
    visibility: Visibility = Visibility.ONLY_YOU
    files: tuple[Attachment, ...] = ()

    @classmethod
    def say(cls, *parts: Inline | Rich | None, **kwargs: Any) -> Reply:
        """Build a reply from inline parts."""
        return cls(text=rich(*parts), **kwargs)

    def plain(self) -> str:
        """Return all text of the reply without formatting."""
        chunks = [self.text.plain()]
        for section in self.sections:
            if section.heading:
                chunks.append(section.heading.plain())
            chunks.append(section.body.plain())
        return "\n".join(chunk for chunk in chunks if chunk)


# ---- serialisation, so a reply can wait in the outbox ----------------------------------------

_INLINE_TYPES: dict[str, type] = {
    "b": Bold,
    "i": Italic,
    "code": Code,
    "mention": Mention,
    "channel": ChannelLink,
    "quote": Quote,
}
_INLINE_TAGS = {cls: tag for tag, cls in _INLINE_TYPES.items()}


def _rich_to_json(value: Rich) -> list[Any]:
    out: list[Any] = []
    for part in value.parts:
        if isinstance(part, str):
            out.append(part)
        else:
            data = {slot: getattr(part, slot) for slot in part.__slots__}
            out.append({"t": _INLINE_TAGS[type(part)], **data})
    return out


def _rich_from_json(data: list[Any]) -> Rich:
    parts: list[Inline] = []
    for item in data:
        if isinstance(item, str):
            parts.append(item)
        else:
            kind = _INLINE_TYPES[item.pop("t")]
            parts.append(kind(**item))
    return Rich(tuple(parts))


def reply_to_json(reply: Reply) -> str:
    """Serialise a reply (forms excluded: they are never queued)."""
    return json.dumps(
        {
            "text": _rich_to_json(reply.text),
            "sections": [
                {
                    "body": _rich_to_json(s.body),
                    "heading": _rich_to_json(s.heading) if s.heading else None,
                }
                for s in reply.sections
            ],
            "buttons": [
                {"action": b.action, "label": b.label, "value": b.value, "style": b.style.value}
                for b in reply.buttons
            ],
            "visibility": reply.visibility.value,
        },
        ensure_ascii=False,
    )


def reply_from_json(raw: str) -> Reply:
    """Rebuild a reply serialised with `reply_to_json`."""
    data = json.loads(raw)
    return Reply(
        text=_rich_from_json(data["text"]),
        sections=tuple(
            Section(
                body=_rich_from_json(s["body"]),
                heading=_rich_from_json(s["heading"]) if s["heading"] else None,
            )
            for s in data["sections"]
        ),
        buttons=tuple(
            Button(b["action"], b["label"], b["value"], ButtonStyle(b["style"]))
            for b in data["buttons"]
        ),
        visibility=Visibility(data["visibility"]),
    )
