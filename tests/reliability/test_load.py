"""A steady load of 1,000 members on one real bot process: no errors, every ack in time.

The bot runs as `python -m bot slack --http` against the fake Slack Web API; the members send a
realistic mix of signed slash commands, button presses and thread replies at a fixed rate for
`CROWDMENTOR_LOAD_SECONDS` seconds (60 by default; the PostgreSQL run takes
`CROWDMENTOR_LOAD_POSTGRES_SECONDS`, 20 by default). The figures are printed for the CI log.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bench.slack_load import ACK_DEADLINE_SECONDS, MIX, LoadConfig, LoadResult, run_load

MEMBERS = 1000
RATE = 20.0  # requests per second: each member acts about once a minute


def _seconds(variable: str, default: float) -> float:
    return float(os.environ.get(variable) or default)


def _report(result: LoadResult, backend: str, capsys: Any, record_property: Any) -> None:
    figures = result.summary()
    record_property("load", json.dumps(figures))
    ack = figures["ack_ms"]
    with capsys.disabled():
        print(
            f"\nload ({backend}): {figures['members']} members, {figures['seconds']:.0f} s, "
            f"{figures['requests']} requests, {figures['requests_per_second']} req/s, "
            f"{figures['errors']} errors; ack p50 {ack['p50']} ms, p95 {ack['p95']} ms, "
            f"p99 {ack['p99']} ms, max {ack['max']} ms; outbox {figures['outbox_sent']}/"
            f"{figures['outbox_rows']} sent, {figures['duplicates']} duplicates, "
            f"{figures['edits']} edits; RSS {figures['rss_mib']['start']} -> "
            f"{figures['rss_mib']['end']} MiB"
        )


def _assert_clean(result: LoadResult, seconds: float) -> None:
    assert result.errors == [], "\n".join(result.errors[:50])
    assert len(result.sent) == int(seconds * RATE)
    assert max(result.latencies) < ACK_DEADLINE_SECONDS
    assert len(result.latencies) == len(result.sent)
    # Every kind of request in the mix was really sent, and the bot finished each one.
    kinds = {s.kind for s in result.sent}
    assert kinds == {kind for kind, _ in MIX}, kinds
    replies = sum(s.kind == "reply" for s in result.sent)
    assert result.handled.get("message") == replies
    assert (
        result.handled.get("command", 0) + result.handled.get("action", 0)
        == len(result.sent) - replies
    )
    # The outbox drained: each queued message on Slack exactly once, each edit made once.
    assert result.outbox_total > 0
    assert result.outbox_sent == result.outbox_total
    assert result.duplicates == {}
    assert result.missing_on_slack == []
    assert result.updates_made == result.updates_queued > 0


async def test_a_minute_of_a_thousand_members_on_sqlite(
    tmp_path: Path, capsys: Any, record_property: Any
) -> None:
    seconds = _seconds("CROWDMENTOR_LOAD_SECONDS", 60)
    config = LoadConfig(members=MEMBERS, seconds=seconds, rate=RATE)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'load.db'}"

    result = await run_load(config, database_url, tmp_path)

    _report(result, "SQLite", capsys, record_property)
    _assert_clean(result, seconds)


@pytest.mark.postgres
async def test_a_thousand_members_on_postgresql(
    postgres_url: str, tmp_path: Path, capsys: Any, record_property: Any
) -> None:
    seconds = _seconds("CROWDMENTOR_LOAD_POSTGRES_SECONDS", 20)
    config = LoadConfig(members=MEMBERS, seconds=seconds, rate=RATE)

    result = await run_load(config, postgres_url, tmp_path)

    _report(result, "PostgreSQL", capsys, record_property)
    _assert_clean(result, seconds)
