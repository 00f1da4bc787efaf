"""Benchmark how fast the Slack adapter acknowledges slash commands under a burst.

Sends bursts of concurrent, signed `/ask` slash commands over real HTTP (127.0.0.1) to
crowdmentor's Slack adapter (a started App: SQLite or PostgreSQL, the delivery worker running,
the fake Slack Web API from the tests answering users.info, response_url and chat.postMessage),
and the same bursts to a bare slack-bolt AsyncApp that acks the same command with a constant.
Both are measured in the same run, burst by burst in turn. Slack shows an error when the ack
takes more than 3 s, so every ack must stay under that; the target is our p99 within 1.5x of
the bare app's.

    python bench/bench_slack_ack.py                      # 200 concurrent commands, 3 bursts each
    python bench/bench_slack_ack.py --concurrency 200 --bursts 5 --json
    python bench/bench_slack_ack.py --backend postgresql  # needs CROWDMENTOR_TEST_POSTGRES_URL

See bench/README.md for the recorded figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.adapters.slack import HTTP_LISTEN_BACKLOG, SlackAdapter  # noqa: E402
from bot.app import App  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import migrate  # noqa: E402
from tests.adapters._slack_fakes import (  # noqa: E402
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlackAPI,
    FakeWorkspace,
    sign,
)

ACK_LIMIT_SECONDS = 3.0
TARGET_RATIO = 1.5
USERS = 50


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of `values`."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(latencies: list[float]) -> dict[str, float]:
    """Return p50, p99 and max in milliseconds."""
    return {
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
    }


async def serve(application: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    # The same listen backlog as the adapter's, so both servers accept the burst alike.
    await web.TCPSite(runner, "127.0.0.1", 0, backlog=HTTP_LISTEN_BACKLOG).start()
    return runner, int(runner.addresses[0][1])


@contextlib.asynccontextmanager
async def bare_app(api: FakeSlackAPI) -> AsyncIterator[int]:
    """Serve a slack-bolt app that acks /ask with a constant, the way Bolt's docs show."""
    bolt = AsyncApp(
        signing_secret=SIGNING_SECRET,
        client=AsyncWebClient(token=BOT_TOKEN, base_url=api.api_url),
    )

    @bolt.command("/ask")
    async def ask(ack: Any) -> None:
        await ack("Thanks!")

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    application = web.Application()
    application.router.add_post("/slack/events", events)
    runner, port = await serve(application)
    try:
        yield port
    finally:
        await runner.cleanup()


async def database_url(backend: str, workdir: Path) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        import asyncpg
        from sqlalchemy.engine import make_url

        admin = os.environ["CROWDMENTOR_TEST_POSTGRES_URL"]
        name = f"cm_bench_slack_{uuid.uuid4().hex[:8]}"
        connection = await asyncpg.connect(admin)
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()
        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    await migrate.upgrade(url)
    return url


async def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        return
    import asyncpg
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    admin = os.environ["CROWDMENTOR_TEST_POSTGRES_URL"]
    connection = await asyncpg.connect(admin)
    await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await connection.close()


@contextlib.asynccontextmanager
async def crowdmentor(api: FakeSlackAPI, url: str) -> AsyncIterator[tuple[SlackAdapter, int]]:
    """Run crowdmentor with its Slack adapter in HTTP mode, delivery worker included."""
    settings = Settings(
        database_url=url,
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_signing_secret=SecretStr(SIGNING_SECRET),
        slack_api_url=api.api_url,
    )
    app = App(settings)
    adapter = SlackAdapter(app, http=True, port=0, host="127.0.0.1")
    app.add_adapter(adapter)
    async with app.running():
        task = asyncio.create_task(adapter.serve())
        try:
            await asyncio.wait_for(adapter.ready.wait(), 30)
            assert adapter.bound_port is not None
            yield adapter, adapter.bound_port
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def burst(
    session: aiohttp.ClientSession, workspace: FakeWorkspace, size: int, tag: str
) -> list[float]:
    """Send `size` signed /ask commands at once; return each one's time to its HTTP answer."""
    bodies = [
        workspace.command_body(
            "/ask",
            f"How would you approach question {tag}-{n} about interviews? #bench",
            user=f"U{n % USERS:05d}",
            trigger_id=f"t-{tag}-{n}",
        )
        for n in range(size)
    ]

    async def one(body: str) -> float:
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": sign(body, timestamp),
        }
        started = time.perf_counter()
        async with session.post(workspace.events_url, data=body, headers=headers) as response:
            await response.read()
            elapsed = time.perf_counter() - started
            if response.status != 200:
                raise RuntimeError(f"ack failed with HTTP {response.status}")
        return elapsed

    return list(await asyncio.gather(*(one(body) for body in bodies)))


# Slack and its Web API are other machines: the load (Slack sending commands) and the fake Web
# API each run in a process of their own, so only the apps under test share this event loop.


def slack_web_api_process(connection: Connection) -> None:
    """Serve the fake Web API until told to stop; report its base URL and how often it answered."""

    async def main() -> None:
        api = await FakeSlackAPI().start()
        connection.send(api.base)
        await asyncio.get_running_loop().run_in_executor(None, connection.recv)
        connection.send(len(api.responses))
        await api.stop()

    asyncio.run(main())


def workspace_process(connection: Connection) -> None:
    """Send bursts of signed commands when asked; answer with their ack latencies."""

    async def main() -> None:
        api_base = connection.recv()
        api = FakeSlackAPI()
        api._port = int(api_base.rsplit(":", 1)[1])  # response_urls point at the real fake
        loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            while (order := await loop.run_in_executor(None, connection.recv)) is not None:
                url, size, tag = order
                connection.send(await burst(session, FakeWorkspace(url, api), size, tag))

    asyncio.run(main())


async def ask(connection: Connection, url: str, size: int, tag: str) -> list[float]:
    loop = asyncio.get_running_loop()
    connection.send((url, size, tag))
    latencies: list[float] = await loop.run_in_executor(None, connection.recv)
    return latencies


async def run(concurrency: int, bursts: int, backend: str) -> dict[str, Any]:
    spawn = multiprocessing.get_context("spawn")
    api_end, api_child = spawn.Pipe()
    load_end, load_child = spawn.Pipe()
    api_process = spawn.Process(target=slack_web_api_process, args=(api_child,))
    load_process = spawn.Process(target=workspace_process, args=(load_child,))
    api_process.start()
    load_process.start()
    loop = asyncio.get_running_loop()
    api_base = await loop.run_in_executor(None, api_end.recv)
    load_end.send(api_base)
    api = FakeSlackAPI()
    api._port = int(api_base.rsplit(":", 1)[1])
    with tempfile.TemporaryDirectory() as workdir:
        url = await database_url(backend, Path(workdir))
        try:
            async with crowdmentor(api, url) as (adapter, ours_port), bare_app(api) as bare_port:
                ours = f"http://127.0.0.1:{ours_port}/slack/events"
                bare = f"http://127.0.0.1:{bare_port}/slack/events"

                async def finished(count: int) -> None:
                    await api.wait_for(lambda: adapter.handled["command"] >= count, 120)

                # Warm both up (auth.test, connection pools, the first users.info lookups).
                await ask(load_end, bare, 10, "warm")
                await ask(load_end, ours, USERS, "warm")
                await finished(USERS)
                results: dict[str, list[float]] = {"crowdmentor": [], "bare_bolt": []}
                work_seconds: list[float] = []
                for number in range(bursts):
                    results["bare_bolt"] += await ask(load_end, bare, concurrency, f"b{number}")
                    done_before = adapter.handled["command"]
                    started = time.perf_counter()
                    results["crowdmentor"] += await ask(load_end, ours, concurrency, f"o{number}")
                    # Let the work after the acks finish before the next burst is measured.
                    await finished(done_before + concurrency)
                    work_seconds.append(time.perf_counter() - started)
        finally:
            await drop_database(url)
            load_end.send(None)
            api_end.send("stop")
            answered = await loop.run_in_executor(None, api_end.recv)
            load_process.join(30)
            api_process.join(30)
    ours_summary = summary(results["crowdmentor"])
    bare_summary = summary(results["bare_bolt"])
    slowest = max(max(results["crowdmentor"]), max(results["bare_bolt"]))
    ratio = ours_summary["p99_ms"] / bare_summary["p99_ms"]
    return {
        "benchmark": "slack_ack",
        "backend": backend,
        "concurrency": concurrency,
        "bursts": bursts,
        "commands_each": concurrency * bursts,
        "crowdmentor": ours_summary,
        "bare_bolt": bare_summary,
        "p99_ratio": round(ratio, 2),
        "p99_within_target": ratio <= TARGET_RATIO,
        "every_ack_under_3s": slowest < ACK_LIMIT_SECONDS,
        "work_after_ack_seconds_per_burst_max": round(max(work_seconds), 2),
        "answers_sent_via_response_url": answered,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--bursts", type=int, default=3)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = asyncio.run(run(args.concurrency, args.bursts, args.backend))
    if args.json:
        print(json.dumps(result))
    else:
        for name in ("crowdmentor", "bare_bolt"):
            figures = result[name]
            print(
                f"{name:12} p50 {figures['p50_ms']:8.2f} ms   p99 {figures['p99_ms']:8.2f} ms   "
                f"max {figures['max_ms']:8.2f} ms"
            )
        print(
            f"p99 ratio {result['p99_ratio']} (target <= {TARGET_RATIO}); "
            f"every ack under 3 s: {result['every_ack_under_3s']}; "
            f"{result['commands_each']} commands each, {result['concurrency']} at once"
        )
    return 0 if result["every_ack_under_3s"] else 1


if __name__ == "__main__":
    sys.exit(main())
