"""Real crowdmentor processes on one database: start them, stop them, `kill -9` them.

Each process is `python -m bot slack --http --port 0` against the fake Slack Web API that runs in
the test process, with its real scheduler and delivery worker. Its log is a file the tests read
to see which instance did what. `slack_chat` prepares state in the same database from the test
process, on a clock set into the past, so the processes find timers that are already due.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bot.adapters.local import LocalPlatform
from bot.app import App
from bot.clock import Clock
from bot.events import Community
from bot.settings import Settings
from bot.testing import Chat
from tests.adapters._slack_fakes import (
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM_ID,
    TEAM_NAME,
    FakeSlackAPI,
    FakeWorkspace,
)

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0
_LISTENING = re.compile(r"Slack HTTP mode: .* on port (\d+)")
_TIMER_RAN = re.compile(r"timer (\d+) \(([\w.]+)\) ran")
_DELIVERED = re.compile(r"delivered (\S+) \(")

# Fast pacing for tests: a lost lease comes back within seconds, not a minute.
FAST = {
    "CROWDMENTOR_DELIVERY__POLL_SECONDS": "0.2",
    "CROWDMENTOR_DELIVERY__LEASE_SECONDS": "3",
    "CROWDMENTOR_SCHEDULER__SWEEP_SECONDS": "1",
}
# Set in a developer's shell, these would make the child something other than one Slack app.
_INHERITED_NOT = ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "DISCORD_TOKEN")


@contextlib.asynccontextmanager
async def worker(app: Any) -> AsyncIterator[None]:
    """Run the app's real delivery loop in the background, as `crowdmentor run` does."""
    task = asyncio.create_task(app.delivery.run())
    try:
        yield
    finally:
        app.delivery.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_until(condition: Callable[[], Any], within: float = 20.0, what: str = "") -> Any:
    """Poll a condition (sync or async) until it holds; return its value."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what or condition}")
        await asyncio.sleep(0.05)


@dataclass
class BotProcess:
    """One running `crowdmentor slack --http` process."""

    name: str
    process: asyncio.subprocess.Process
    log_path: Path
    port: int = 0

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def timers_ran(self) -> Counter[int]:
        """Return how often this process ran each timer id."""
        return Counter(int(m.group(1)) for m in _TIMER_RAN.finditer(self.log()))

    def delivered(self) -> Counter[str]:
        """Return how often this process recorded each outbox key as delivered."""
        return Counter(m.group(1) for m in _DELIVERED.finditer(self.log()))

    async def ready(self) -> BotProcess:
        """Wait until the process serves HTTP and answers its health check."""

        def listening() -> int:
            if self.process.returncode is not None:
                raise AssertionError(f"{self.name} exited early:\n{self.log()[-3000:]}")
            found = _LISTENING.search(self.log())
            return int(found.group(1)) if found else 0

        self.port = await wait_until(listening, STARTUP_SECONDS, f"{self.name} to listen")
        assert (await self.health())["ok"]
        return self

    async def health(self) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{self.port}/healthz") as response,
        ):
            assert response.status == 200, await response.text()
            health: dict[str, Any] = await response.json()
            return health

    async def handled(self, kind: str) -> int:
        """Return how many listener runs of `kind` this process has finished after their ack."""
        return int((await self.health())["handled"].get(kind, 0))

    async def kill(self) -> None:
        """`kill -9`: no cleanup, no goodbye, open transactions left to the server."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        """Ask the process to stop (SIGTERM), and kill it if it does not."""
        if self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), STOP_SECONDS)
        except TimeoutError:
            await self.kill()


@dataclass
class Fleet:
    """The fake Slack, and every bot process started against one database."""

    database_url: str
    directory: Path
    api: FakeSlackAPI
    processes: list[BotProcess] = field(default_factory=list)
    _workspaces: list[FakeWorkspace] = field(default_factory=list)

    async def launch(self, name: str, **settings: str) -> BotProcess:
        """Start a process without waiting for it (`await process.ready()` does)."""
        env = {k: v for k, v in os.environ.items() if k not in _INHERITED_NOT}
        env.update(
            {
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
                "DATABASE_URL": self.database_url,
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": self.api.api_url,
                "LOG_LEVEL": "INFO",
                **FAST,
                **settings,
            }
        )
        log_path = self.directory / f"{name}-{len(self.processes)}.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "slack",
                "--http",
                "--port",
                "0",
                cwd=ROOT,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        started = BotProcess(name, process, log_path)
        self.processes.append(started)
        return started

    async def start(self, name: str, **settings: str) -> BotProcess:
        """Start a process and wait until it serves."""
        return await (await self.launch(name, **settings)).ready()

    def workspace(self, process: BotProcess, team_id: str = TEAM_ID) -> FakeWorkspace:
        """Return a workspace whose requests reach one process (one target of a load balancer)."""
        workspace = FakeWorkspace(process.events_url, self.api, team_id=team_id)
        self._workspaces.append(workspace)
        return workspace

    def timers_ran(self) -> Counter[int]:
        """Return how often each timer id ran, over every process."""
        return sum((p.timers_ran() for p in self.processes), Counter())

    def delivered(self) -> Counter[str]:
        """Return how often each outbox key was recorded as delivered, over every process."""
        return sum((p.delivered() for p in self.processes), Counter())

    def tracebacks(self) -> list[str]:
        """Return the logs of processes that logged an exception."""
        return [p.log() for p in self.processes if "Traceback" in p.log()]

    async def close(self) -> None:
        for workspace in self._workspaces:
            await workspace.close()
        await asyncio.gather(*(p.stop() for p in self.processes))
        await self.api.stop()


@contextlib.asynccontextmanager
async def slack_fleet(database_url: str, directory: Path) -> AsyncIterator[Fleet]:
    """Yield a fleet around a started fake Slack; every process is stopped afterwards."""
    fleet = Fleet(database_url, directory, await FakeSlackAPI().start())
    try:
        yield fleet
    finally:
        await fleet.close()


@contextlib.asynccontextmanager
async def slack_chat(
    database_url: str, ago: timedelta = timedelta(0), team_id: str = TEAM_ID
) -> AsyncIterator[Chat]:
    """Yield a chat in a Slack workspace, run in this process on a clock set `ago` back.

    The app is never started: what it queues and the timers it sets are left to the processes.
    Set `chat.app.clock.offset` to prepare each part at its own moment in the past.
    """
    app = App(Settings(database_url=database_url), clock=Clock(-ago))
    platform = LocalPlatform(platform="memory")
    app.add_adapter(platform)
    chat = Chat(app, platform, Community("slack", team_id, TEAM_NAME))
    chat.admins = {"U0ADMIN"}
    try:
        yield chat
    finally:
        await app.database.dispose()


def slack_mention(user_id: str) -> str:
    """Return a Slack mention as a slash command's text carries it."""
    return f"<@{user_id}|{user_id.lower()}>"
