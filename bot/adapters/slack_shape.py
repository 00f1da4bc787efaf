"""Check that a signed Slack request has the shape Slack gives it, before Bolt reads it.

Bolt indexes payloads directly (`body["actions"][0]["action_id"]`, `body["event"]["type"]`),
so a field of the wrong type became a 500 and a traceback. Slack always sends these fields with
the types below; a body that differs is refused with a 400 and never reaches a listener. Deeper
fields (form values, metadata) are read leniently by slack_inbound instead.
Source: https://docs.slack.dev/reference/interaction-payloads and
https://docs.slack.dev/apis/events-api/#callback-field
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.request.internals import parse_body

# Top-level fields that are strings whenever they are present.
_TOP_TEXT = (
    "type", "command", "callback_id", "response_url", "team_id", "user_id", "user_name",
    "trigger_id", "api_app_id", "channel_id", "channel_name", "team_domain", "text", "token",
    "enterprise_id", "is_enterprise_install",
)  # fmt: skip
# Top-level objects (or null), each with the string fields Bolt or the adapter reads.
_TOP_OBJECTS = {
    "team": ("id", "domain", "enterprise_id"),
    "user": ("id", "team_id", "name", "username"),
    "channel": ("id", "name"),
    "container": ("channel_id", "message_ts", "thread_ts", "type"),
    "message": ("ts", "thread_ts", "type", "user"),
    "view": ("id", "type", "callback_id", "team_id", "app_installed_team_id", "private_metadata"),
    "enterprise": ("id",),
}
_EVENT_TEXT = ("type", "subtype", "channel_type", "thread_ts", "bot_id", "user", "channel", "tab",
               "ts", "team")  # fmt: skip
_EVENT_OBJECTS = ("message", "previous_message", "item", "assistant_thread", "tokens")
_LISTS_OF_OBJECTS = ("authorizations", "response_urls")


def _text_fields(value: dict[str, Any], names: tuple[str, ...]) -> bool:
    return all(value.get(name) is None or isinstance(value[name], str) for name in names)


def _object_or_none(value: Any) -> bool:
    return value is None or isinstance(value, dict)


def _actions(body: dict[str, Any]) -> bool:
    actions = body.get("actions")
    if actions is None:
        return body.get("type") != "block_actions"
    return (
        isinstance(actions, list)
        and bool(actions)
        and all(
            isinstance(a, dict) and isinstance(a.get("action_id"), str) and _text_fields(
                a, ("block_id", "value", "type"))
            for a in actions
        )
    )  # fmt: skip


def _event(body: dict[str, Any]) -> bool:
    event = body.get("event")
    if event is None:
        return True
    return (
        isinstance(event, dict)
        and isinstance(event.get("type"), str)
        and _text_fields(event, _EVENT_TEXT)
        and all(_object_or_none(event.get(name)) for name in _EVENT_OBJECTS)
    )


def has_slack_shape(body: dict[str, Any]) -> bool:
    """Tell whether a parsed body has every field Bolt reads in the type Slack sends."""
    if not _text_fields(body, _TOP_TEXT):
        return False
    for name, fields in _TOP_OBJECTS.items():
        value = body.get(name)
        if not _object_or_none(value) or (value and not _text_fields(value, fields)):
            return False
    if body.get("type") in ("view_submission", "view_closed") and not isinstance(
        (body.get("view") or {}).get("callback_id"), str
    ):
        return False
    lists_ok = all(
        body.get(name) is None
        or (isinstance(body[name], list) and all(isinstance(i, dict) for i in body[name]))
        for name in _LISTS_OF_OBJECTS
    )
    return lists_ok and _actions(body) and _event(body)


def readable(body: str, content_type: str) -> bool:
    """Tell whether Bolt can read `body`: a JSON object (or form) of Slack's shape."""
    try:
        parsed = parse_body(body, content_type)
    except (ValueError, RecursionError):
        return False
    return isinstance(parsed, dict) and has_slack_shape(parsed)


def is_ssl_check(raw: bytes) -> bool:
    """Tell Slack's certificate check (`ssl_check=1`), which Bolt answers before any signature.

    Source: https://docs.slack.dev/interactivity/implementing-slash-commands#ssl
    """
    try:
        form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return False
    return form.get("ssl_check") == "1"
