"""Benchmark how soon a slash command's form opens while a burst of commands is worked off.

A `trigger_id` lives 3 seconds: a modal opened later never appears. Each burst sends 200
concurrent, signed slash commands over real HTTP (127.0.0.1) to crowdmentor's Slack adapter (a
started App with its delivery worker, HTTP mode); every 20th is `/ask` with no text, which opens
the ask form through `views.open`, and the rest are `/ask <question>`, each a write transaction
and an answer through `response_url`. The fake Slack Web API and the load run in processes of
their own; the figure is the time from sending a form command to the fake Web API receiving its
`views.open` (both read the system-wide monotonic clock). Every command of a burst comes from a
different member, so each needs a users.info; `--latency-ms` makes the fake Web API answer
users.info, views.open and response_url as slowly as Slack does from afar.

    python bench/bench_slack_forms.py                      # 5 bursts of 200, SQLite
    python bench/bench_slack_forms.py --bursts 5 --json
    python bench/bench_slack_forms.py --latency-ms 150    # Slack's round trip from afar
    python bench/bench_slack_forms.py --backend postgresql  # needs CROWDMENTOR_TEST_POSTGRES_URL

See bench/README.md for the recorded figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_slack_ack import (  # noqa: E402
    USERS,
    crowdmentor,
    database_url,
    drop_database,
    percentile,
    summary,
)
from bot.adapters.slack import TRIGGER_LIFETIME_SECONDS  # noqa: E402
from tests.adapters._slack_fakes import FakeSlackAPI, FakeWorkspace, sign  # noqa: E402

FORM_EVERY = 20


LATENT_METHODS = ("users.info", "views.open", "response_url")


def slack_web_api_process(connection: Connection, latency: float) -> None:
    """Serve the fake Web API; when asked, report when each trigger's views.open arrived."""

    async def main() -> None:
        api = await FakeSlackAPI(delays=dict.fromkeys(LATENT_METHODS, latency)).start()
        connection.send(api.base)
        loop = asyncio.get_running_loop()
        while await loop.run_in_executor(None, connection.recv) == "opened":
            connection.send(
                {call.params["trigger_id"]: call.at for call in api.called("views.open")}
            )
        await api.stop()

    asyncio.run(main())


async def burst(
    session: aiohttp.ClientSession, workspace: FakeWorkspace, size: int, tag: str
) -> dict[str, float]:
    """Send `size` signed commands at once; return when each form command was sent."""
    sent: dict[str, float] = {}

    async def one(n: int) -> None:
        trigger = f"t-{tag}-{n}"
        form = n % FORM_EVERY == 0
        text = "" if form else f"How would you approach question {tag}-{n} about interviews?"
        member = f"U{tag.upper()}{n:04d}"  # a new member each time: users.info for every one
        body = workspace.command_body("/ask", text, user=member, trigger_id=trigger)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": sign(body, timestamp),
        }
        if form:
            sent[trigger] = time.monotonic()
        async with session.post(workspace.events_url, data=body, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"ack failed with HTTP {response.status}")

    await asyncio.gather(*(one(n) for n in range(size)))
    return sent


def workspace_process(connection: Connection) -> None:
    """Send bursts of signed commands when asked; answer with the form commands' send times."""

    async def main() -> None:
        api_base = connection.recv()
        api = FakeSlackAPI()
        api._port = int(api_base.rsplit(":", 1)[1])  # response_urls point at the real fake
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            while (order := await loop.run_in_executor(None, connection.recv)) is not None:
                url, size, tag = order
                connection.send(await burst(session, FakeWorkspace(url, api), size, tag))

    asyncio.run(main())


async def run(concurrency: int, bursts: int, backend: str, latency: float) -> dict[str, Any]:
    spawn = multiprocessing.get_context("spawn")
    api_end, api_child = spawn.Pipe()
    load_end, load_child = spawn.Pipe()
    api_process = spawn.Process(target=slack_web_api_process, args=(api_child, latency))
    load_process = spawn.Process(target=workspace_process, args=(load_child,))
    api_process.start()
    load_process.start()
    loop = asyncio.get_running_loop()
    api_base = await loop.run_in_executor(None, api_end.recv)
    load_end.send(api_base)
    api = FakeSlackAPI()
    api._port = int(api_base.rsplit(":", 1)[1])

    async def send(url: str, size: int, tag: str) -> dict[str, float]:
        load_end.send((url, size, tag))
        sent: dict[str, float] = await loop.run_in_executor(None, load_end.recv)
        return sent

    delays: list[float] = []
    missing = 0
    work_seconds: list[float] = []
    with tempfile.TemporaryDirectory() as workdir:
        url = await database_url(backend, Path(workdir))
        try:
            async with crowdmentor(api, url) as (adapter, port):
                events = f"http://127.0.0.1:{port}/slack/events"

                async def finished(count: int) -> None:
                    await api.wait_for(lambda: adapter.handled["command"] >= count, 300)

                await send(events, USERS, "warm")  # users.info, pools, the first transactions
                await finished(USERS)
                for number in range(bursts):
                    done_before = adapter.handled["command"]
                    started = time.monotonic()
                    sent = await send(events, concurrency, f"b{number}")
                    await finished(done_before + concurrency)
                    work_seconds.append(time.monotonic() - started)
                    api_end.send("opened")
                    opened: dict[str, float] = await loop.run_in_executor(None, api_end.recv)
                    for trigger, at in sent.items():
                        if trigger in opened:
                            delays.append(opened[trigger] - at)
                        else:
                            missing += 1
        finally:
            await drop_database(url)
            load_end.send(None)
            api_end.send("stop")
            load_process.join(30)
            api_process.join(30)
    late = sum(delay >= TRIGGER_LIFETIME_SECONDS for delay in delays)
    return {
        "benchmark": "slack_forms",
        "backend": backend,
        "concurrency": concurrency,
        "bursts": bursts,
        "slack_latency_ms": round(latency * 1000),
        "forms": len(delays) + missing,
        "command_to_views_open": summary(delays) if delays else None,
        "p99_ms": round(percentile(delays, 0.99) * 1000, 2) if delays else None,
        "forms_not_opened": missing,
        "forms_past_trigger_lifetime": late,
        "work_after_ack_seconds_per_burst_max": round(max(work_seconds), 2),
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="fake Web API latency")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = asyncio.run(run(args.concurrency, args.bursts, args.backend, args.latency_ms / 1000))
    if args.json:
        print(json.dumps(result))
    else:
        figures = result["command_to_views_open"] or {}
        print(
            f"command to views.open: p50 {figures.get('p50_ms')} ms, p99 {figures.get('p99_ms')} "
            f"ms, max {figures.get('max_ms')} ms over {result['forms']} forms in bursts of "
            f"{result['concurrency']}; not opened: {result['forms_not_opened']}; past the "
            f"trigger's 3 s: {result['forms_past_trigger_lifetime']}; work per burst up to "
            f"{result['work_after_ack_seconds_per_burst_max']} s"
        )
    on_time = not result["forms_not_opened"] and not result["forms_past_trigger_lifetime"]
    return 0 if on_time else 1


if __name__ == "__main__":
    sys.exit(main())
