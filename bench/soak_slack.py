"""Soak one `crowdmentor slack --http` process: the load test's traffic for minutes, RSS sampled.

The same members and mix as tests/reliability/test_load.py (bench/slack_load.py), for 10 minutes
by default, against SQLite (a fresh file) or the PostgreSQL server named by `--database-url`
(a fresh database on it). The bot's RSS is read from /proc/<pid>/status every `--every` seconds;
the run prints every sample, then the start, end, peak and growth, and the load figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.slack_load import LoadConfig, run_load  # noqa: E402
from bot.store import migrate  # noqa: E402


async def _fresh_postgres(server_url: str) -> tuple[str, str]:
    """Create a migrated database on the server; return its URL and the server's admin URL."""
    server = make_url(server_url).set(drivername="postgresql")
    name = f"cm_soak_{uuid.uuid4().hex[:8]}"
    admin = server.set(database="postgres").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = server.set(drivername="postgresql+asyncpg", database=name)
    rendered = url.render_as_string(hide_password=False)
    await migrate.upgrade(rendered)
    return rendered, admin


async def _drop_postgres(url: str, admin: str) -> None:
    name = make_url(url).database
    connection = await asyncpg.connect(admin)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    """Run the load for `args.minutes` and return its figures with the RSS samples."""
    config = LoadConfig(
        members=args.members, seconds=args.minutes * 60, rate=args.rate, rss_every=args.every
    )
    progress = None if args.json else print
    with tempfile.TemporaryDirectory() as workdir:
        if args.database_url:
            url, admin = await _fresh_postgres(args.database_url)
        else:
            url, admin = f"sqlite+aiosqlite:///{Path(workdir) / 'soak.db'}", ""
        try:
            result = await run_load(config, url, Path(workdir), progress)
        finally:
            if admin:
                await _drop_postgres(url, admin)
    figures = result.summary()
    figures["backend"] = "postgresql" if args.database_url else "sqlite"
    figures["rss_samples_kib"] = [(round(at), kib) for at, kib in result.rss_kib]
    figures["error_lines"] = result.errors[:20]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--every", type=float, default=30.0, help="seconds between RSS samples")
    parser.add_argument("--database-url", default="", help="a PostgreSQL server (else SQLite)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    figures = asyncio.run(soak(args))
    if args.json:
        print(json.dumps(figures))
    else:
        rss, ack = figures["rss_mib"], figures["ack_ms"]
        print(
            f"RSS start {rss['start']} MiB, warm {rss['warm']} MiB, end {rss['end']} MiB, "
            f"peak {rss['peak']} MiB, growth {rss['growth']} MiB "
            f"({rss['growth_since_warm']} MiB since warm)"
        )
        print(
            f"{figures['requests']} requests ({figures['requests_per_second']} req/s), "
            f"{figures['errors']} errors; ack p50 {ack['p50']} ms, p95 {ack['p95']} ms, "
            f"p99 {ack['p99']} ms, max {ack['max']} ms; outbox {figures['outbox_sent']}/"
            f"{figures['outbox_rows']} sent, {figures['duplicates']} duplicates"
        )
        for line in figures["error_lines"]:
            print("error:", line)
    return 0 if figures["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
