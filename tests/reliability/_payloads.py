"""Realistic Slack and Discord payloads, and hypothesis strategies that damage them."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.reliability._hostile import hostile_text

JUNK: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True),
        hostile_text(6),
        st.sampled_from(["", "0", "-1", "٣", "9" * 40, "1e9", "null", "{}", "[]"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Return the path of every value inside a JSON document (the root excluded)."""
    found: list[tuple[Any, ...]] = []
    items: Any = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, inner in items:
        found.append((*prefix, key))
        found.extend(_paths(inner, (*prefix, key)))
    return found


def _replace(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    copy = json.loads(json.dumps(document))
    target = copy
    for key in path[:-1]:
        target = target[key]
    if new is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = new
    return copy


_DELETE = object()


def damaged(template: dict[str, Any], *, max_changes: int = 4) -> st.SearchStrategy[Any]:
    """A copy of `template` with a few fields deleted or replaced by values of any type."""

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        document: Any = template
        for _ in range(draw(st.integers(1, max_changes))):
            live = _paths(document)
            if not live:
                break
            path = draw(st.sampled_from(live))
            new = draw(st.one_of(JUNK, st.just(_DELETE)))
            document = _replace(document, path, new)
        return document

    return build()


SLACK_COMMAND: dict[str, Any] = {
    "team_id": "T0001",
    "team_domain": "test",
    "channel_id": "C0GENERAL",
    "channel_name": "general",
    "user_id": "U0ADA",
    "user_name": "ada",
    "command": "/ask",
    "text": "How do I start? #python",
    "response_url": "http://127.0.0.1:9/response/x",
    "trigger_id": "trigger-1",
}

SLACK_BLOCK_ACTIONS: dict[str, Any] = {
    "type": "block_actions",
    "team": {"id": "T0001", "domain": "test"},
    "user": {"id": "U0ADA", "username": "ada", "team_id": "T0001"},
    "api_app_id": "A0001",
    "trigger_id": "trigger-2",
    "channel": {"id": "C0GENERAL", "name": "general"},
    "container": {
        "type": "message",
        "message_ts": "1700000000.000001",
        "channel_id": "C0GENERAL",
        "is_ephemeral": False,
        "thread_ts": "1700000000.000001",
    },
    "message": {"ts": "1700000000.000001", "type": "message", "thread_ts": "1"},
    "response_url": "http://127.0.0.1:9/response/x",
    "actions": [
        {"type": "button", "action_id": "question.resolve#1", "block_id": "b1", "value": "1"}
    ],
}

SLACK_VIEW_SUBMISSION: dict[str, Any] = {
    "type": "view_submission",
    "team": {"id": "T0001", "domain": "test"},
    "user": {"id": "U0ADA", "username": "ada", "team_id": "T0001"},
    "view": {
        "id": "V0001",
        "type": "modal",
        "callback_id": "ask",
        "private_metadata": json.dumps(
            {"channel": "C0GENERAL", "response_url": "http://127.0.0.1:9/response/x"}
        ),
        "state": {
            "values": {
                "question": {"q": {"type": "plain_text_input", "value": "How? #python"}},
                "anonymous": {"a": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}},
            }
        },
    },
}

SLACK_MESSAGE_EVENT: dict[str, Any] = {
    "type": "message",
    "user": "U0BOB",
    "text": "a reply",
    "ts": "1700000000.000009",
    "thread_ts": "1700000000.000001",
    "channel": "C0GENERAL",
    "channel_type": "channel",
}

DISCORD_MODAL_DATA: dict[str, Any] = {
    "custom_id": "cmf:ask",
    "components": [
        {"type": 18, "id": 1, "component": {"type": 4, "custom_id": "question", "value": "How?"}},
        {"type": 1, "components": [{"type": 3, "custom_id": "anonymous", "values": ["yes"]}]},
    ],
}


def samples(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """Draw `count` examples, the same ones on every run (for tests that cannot use @given)."""
    from hypothesis import HealthCheck, given, settings

    drawn: list[Any] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn
