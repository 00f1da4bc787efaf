"""Render replies for Slack: mrkdwn text, Block Kit messages, modals and the App Home.

Every plain `str` part is escaped (`&`, `<`, `>` and nothing else, as Slack asks), so nothing a
member typed can become a mention, a link or a special mention such as `<!channel>`. Long text
is split into several sections or shortened with "…" so Slack never refuses a message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.replies import (
    Bold,
    Button,
    ButtonStyle,
    ChannelLink,
    Code,
    FieldKind,
    Form,
    Inline,
    Italic,
    Mention,
    Quote,
    Reply,
    Rich,
    Section,
)

# Block Kit and message limits. Sources:
# https://docs.slack.dev/reference/block-kit/blocks ("up to 50 blocks in each message, and 100
# blocks in modals or Home tabs"); https://docs.slack.dev/reference/block-kit/blocks/section-block
# (text "Maximum length for the text in this field is 3000 characters");
# https://api.slack.com/changelog/2018-04-truncating-really-long-messages (text over 40,000
# characters is truncated).
MESSAGE_BLOCKS_MAX = 50
SURFACE_BLOCKS_MAX = 100
SECTION_TEXT_MAX_CHARS = 3_000
MESSAGE_TEXT_MAX_CHARS = 40_000

# Elements. Source: https://docs.slack.dev/reference/block-kit/block-elements/button-element
# (text max 75 characters, value max 2000, action_id max 255) and
# https://docs.slack.dev/reference/block-kit/blocks/actions-block (at most 25 elements).
BUTTON_TEXT_MAX_CHARS = 75
BUTTON_VALUE_MAX_CHARS = 2_000
ACTION_ID_MAX_CHARS = 255
ACTIONS_ELEMENTS_MAX = 25

# Modals. Source: https://docs.slack.dev/reference/views/modal-views (title and submit at most
# 24 characters, private_metadata at most 3000) and
# https://docs.slack.dev/reference/block-kit/block-elements/plain-text-input-element
# (max_length at most 3000; placeholder at most 150 characters; input labels at most 2000).
MODAL_TITLE_MAX_CHARS = 24
MODAL_BUTTON_MAX_CHARS = 24
PRIVATE_METADATA_MAX_CHARS = 3_000
TEXT_INPUT_MAX_CHARS = 3_000
PLACEHOLDER_MAX_CHARS = 150
LABEL_MAX_CHARS = 2_000

ELLIPSIS = "…"
# A second button with the same action in one message gets "#2", "#3"…: Slack refuses messages
# whose action ids repeat, and inbound translation strips the suffix again.
ACTION_SUFFIX = "#"
YES = "yes"

_SLACK_ID = re.compile(r"^[A-Z][A-Z0-9]{2,}$")
# What Slack itself shows for a mention or channel token a member typed (kept as literal text).
_USER_TOKEN = re.compile(r"<@([A-Z0-9]+)\|([^>]*)>")
_CHANNEL_TOKEN = re.compile(r"<#([A-Z0-9]+)\|([^>]*)>")


def escape(text: str) -> str:
    """Escape Slack's three control characters, and only those."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _literal(text: str) -> str:
    # A mention token kept in a member's text reads as Slack shows it, without notifying anyone.
    text = _USER_TOKEN.sub(lambda m: f"@{m.group(2) or m.group(1)}", text)
    text = _CHANNEL_TOKEN.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    return escape(text)


def _code(text: str) -> str:
    # Backticks cannot be escaped inside code; a look-alike keeps the span intact.
    return "`" + _literal(text.replace("`", "ˋ").replace("\n", " ")) + "`"


def _wrap(marker: str, text: str) -> str:
    # Slack ignores emphasis markers next to spaces, so they hug the words.
    stripped = text.strip()
    if not stripped:
        return _literal(text)
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return f"{_literal(lead)}{marker}{_literal(stripped)}{marker}{_literal(trail)}"


def _quote(text: str) -> str:
    lines = text.splitlines() or [""]
    return "\n" + "\n".join(f">{_literal(line)}" if line else ">" for line in lines) + "\n"


@dataclass(frozen=True, slots=True)
class _Piece:
    """One part of a run: its raw text and how a slice of that text is written in mrkdwn."""

    raw: str
    render: Callable[[str], str]
    splittable: bool = True

    def text(self) -> str:
        return self.render(self.raw)


def _piece(part: Inline) -> _Piece:
    match part:
        case str():
            return _Piece(part, _literal)
        case Bold():
            return _Piece(part.text, lambda t: _wrap("*", t))
        case Italic():
            return _Piece(part.text, lambda t: _wrap("_", t))
        case Code():
            return _Piece(part.text, _code)
        case Quote():
            return _Piece(part.text, _quote)
        case Mention():
            if _SLACK_ID.match(part.user_id):
                return _Piece(part.user_id, lambda t: f"<@{t}>", splittable=False)
            return _Piece(f"@{part.display_name}", _literal)
        case ChannelLink():
            if _SLACK_ID.match(part.channel_id):
                return _Piece(part.channel_id, lambda t: f"<#{t}>", splittable=False)
            return _Piece(f"#{part.name or part.channel_id}", _literal)
    raise TypeError(f"cannot render {part!r}")  # pragma: no cover - every Inline is matched


def _tidy(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def mrkdwn(value: Rich) -> str:
    """Render a run as one mrkdwn string (no length limit)."""
    return _tidy("".join(_piece(part).text() for part in value.parts))


def _longest_prefix(piece: _Piece, room: int) -> int:
    """Return how many raw characters of `piece` fit in `room` rendered characters (>= 1)."""
    low, high = 0, len(piece.raw)
    while low < high:
        middle = (low + high + 1) // 2
        if len(piece.render(piece.raw[:middle])) <= room:
            low = middle
        else:
            high = middle - 1
    if 0 < low < len(piece.raw):
        # Prefer to break after whitespace when one is near the end of what fits.
        cut = max(piece.raw.rfind(" ", 0, low), piece.raw.rfind("\n", 0, low))
        if cut >= low * 0.7:
            low = cut + 1
    return low


def split_mrkdwn(value: Rich, limit: int) -> list[str]:
    """Render a run as mrkdwn chunks of at most `limit` characters, splitting long parts."""
    chunks: list[str] = []
    current = ""
    for part in value.parts:
        piece = _piece(part)
        rendered = piece.text()
        if len(current) + len(rendered) <= limit:
            current += rendered
            continue
        if not piece.splittable or len(rendered) <= limit:
            chunks.append(current)
            current = rendered
            continue
        raw = piece.raw
        while raw:
            rest = _Piece(raw, piece.render)
            room = limit - len(current)
            taken = _longest_prefix(rest, room) if room > 0 else 0
            if taken == 0:
                if not current:  # even one character does not fit: cannot happen for limit >= 16
                    raise ValueError(f"limit {limit} is too small to render {raw[:20]!r}")
                chunks.append(current)
                current = ""
                continue
            current += piece.render(raw[:taken])
            raw = raw[taken:]
            if raw:
                chunks.append(current)
                current = ""
    chunks.append(current)
    tidy = [_tidy(chunk) for chunk in chunks]
    return [chunk for chunk in tidy if chunk.strip()]


def shorten(text: str, limit: int) -> str:
    """Cut plain text to `limit` characters, ending with "…" when it was cut."""
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def shorten_mrkdwn(value: Rich, limit: int) -> str:
    """Render a run as mrkdwn of at most `limit` characters, ending with "…" when cut."""
    chunks = split_mrkdwn(value, limit - len(ELLIPSIS))
    if not chunks:
        return ""
    whole = mrkdwn(value)
    if len(chunks) == 1 and len(whole) <= limit:
        return whole
    return chunks[0].rstrip() + ELLIPSIS


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": shorten(text, limit) or " ", "emoji": True}


def _section_blocks(body: Rich, heading: Rich | None = None) -> list[dict[str, Any]]:
    run = Rich(((Bold(heading.plain()), "\n") if heading else ()) + body.parts)
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": chunk, "verbatim": True}}
        for chunk in split_mrkdwn(run, SECTION_TEXT_MAX_CHARS)
    ]


def action_id_for(action: str, seen: dict[str, int]) -> str:
    """Return a unique action id for `action` within one message."""
    seen[action] = seen.get(action, 0) + 1
    suffix = "" if seen[action] == 1 else f"{ACTION_SUFFIX}{seen[action]}"
    return action[: ACTION_ID_MAX_CHARS - len(suffix)] + suffix


def action_of(action_id: str) -> str:
    """Return our action from a Slack action id (undoing `action_id_for`)."""
    base, _, number = action_id.rpartition(ACTION_SUFFIX)
    return base if base and number.isdigit() else action_id


def _button(button: Button, seen: dict[str, int]) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": action_id_for(button.action, seen),
        "text": _plain(button.label, BUTTON_TEXT_MAX_CHARS),
    }
    if button.value:
        element["value"] = button.value[:BUTTON_VALUE_MAX_CHARS]
    if button.style is ButtonStyle.PRIMARY:
        element["style"] = "primary"
    elif button.style is ButtonStyle.DANGER:
        element["style"] = "danger"
    return element


def _action_blocks(buttons: tuple[Button, ...]) -> list[dict[str, Any]]:
    seen: dict[str, int] = {}
    elements = [_button(button, seen) for button in buttons]
    return [
        {"type": "actions", "elements": elements[start : start + ACTIONS_ELEMENTS_MAX]}
        for start in range(0, len(elements), ACTIONS_ELEMENTS_MAX)
    ]


def reply_blocks(reply: Reply, *, max_blocks: int = MESSAGE_BLOCKS_MAX) -> list[dict[str, Any]]:
    """Build the blocks of a reply: text, sections, buttons; never more than `max_blocks`."""
    text_blocks: list[dict[str, Any]] = []
    if reply.text:
        text_blocks.extend(_section_blocks(reply.text))
    for section in reply.sections:
        text_blocks.extend(_section_blocks(section.body, section.heading))
    actions = _action_blocks(reply.buttons)[: max_blocks - 1]
    room = max_blocks - len(actions)
    if len(text_blocks) > room:
        # Keep the buttons (they act on the whole message) and say that text was left out.
        text_blocks = text_blocks[: room - 1]
        text_blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{ELLIPSIS} (cut)"}]}
        )
    return text_blocks + actions


def _whole_run(reply: Reply) -> Rich:
    parts: list[Inline] = list(reply.text.parts)
    for section in reply.sections:
        if parts:
            parts.append("\n\n")
        if section.heading:
            parts.extend((Bold(section.heading.plain()), "\n"))
        parts.extend(section.body.parts)
    return Rich(tuple(parts))


def fallback_text(reply: Reply) -> str:
    """Return the message's top-level text (notifications, screen readers), within 40,000."""
    return shorten_mrkdwn(_whole_run(reply), MESSAGE_TEXT_MAX_CHARS) or " "


def message_payload(reply: Reply) -> dict[str, Any]:
    """Return the text and blocks of a message (chat.postMessage, chat.update, respond)."""
    return {"text": fallback_text(reply), "blocks": reply_blocks(reply)}


def home_view(reply: Reply, *, intro: Rich) -> dict[str, Any]:
    """Return an App Home view showing a reply below an introduction."""
    framed = Reply(
        text=intro, sections=(Section(body=reply.text), *reply.sections), buttons=reply.buttons
    )
    return {"type": "home", "blocks": reply_blocks(framed, max_blocks=SURFACE_BLOCKS_MAX)}


def _input_block(field: Any) -> dict[str, Any]:
    label = _plain(field.label, LABEL_MAX_CHARS)
    if field.kind is FieldKind.YES_NO:
        element: dict[str, Any] = {
            "type": "checkboxes",
            "action_id": field.name,
            "options": [{"text": _plain(field.label, LABEL_MAX_CHARS), "value": YES}],
        }
        return {
            "type": "input",
            "block_id": field.name,
            "optional": True,
            "label": label,
            "element": element,
        }
    element = {
        "type": "plain_text_input",
        "action_id": field.name,
        "multiline": field.kind is FieldKind.LONG_TEXT,
        "max_length": min(field.max_length or TEXT_INPUT_MAX_CHARS, TEXT_INPUT_MAX_CHARS),
    }
    if field.placeholder:
        element["placeholder"] = _plain(field.placeholder, PLACEHOLDER_MAX_CHARS)
    return {
        "type": "input",
        "block_id": field.name,
        "optional": not field.required,
        "label": label,
        "element": element,
    }


def modal_view(form: Form, metadata: dict[str, str]) -> dict[str, Any]:
    """Return a modal for a form; `metadata` (where it was opened) comes back on submit."""
    private = json.dumps(metadata, separators=(",", ":"))
    if len(private) > PRIVATE_METADATA_MAX_CHARS:
        private = json.dumps({k: v for k, v in metadata.items() if k != "response_url"})
    return {
        "type": "modal",
        "callback_id": form.form_id,
        "title": _plain(form.title, MODAL_TITLE_MAX_CHARS),
        "submit": _plain(form.submit_label, MODAL_BUTTON_MAX_CHARS),
        "close": _plain("Cancel", MODAL_BUTTON_MAX_CHARS),
        "private_metadata": private,
        "blocks": [_input_block(field) for field in form.fields][:SURFACE_BLOCKS_MAX],
    }
