"""Read a typed line (`/ask …`) into an Invocation: shared by the console and the test harness."""

from __future__ import annotations

from bot.events import Actor, Community, Invocation, Place


def parse_command_line(line: str, actor: Actor, community: Community, place: Place) -> Invocation:
    """Turn `/command rest of line` into an Invocation."""
    stripped = line.strip()
    if not stripped.startswith("/"):
        raise ValueError("a command starts with /")
    command, _, text = stripped[1:].partition(" ")
    return Invocation(
        command=command.lower(), text=text.strip(), actor=actor, community=community, place=place
    )
