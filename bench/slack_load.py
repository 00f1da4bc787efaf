"""Drive a real `crowdmentor slack --http` process with a steady mix of Slack traffic.

One bot process (its own scheduler and delivery worker) serves the fake Slack Web API on
127.0.0.1; this module plays a workspace of many members who send signed slash commands, button
presses and thread replies at a fixed rate, whatever the bot's answers take (an open loop, as real
members do not wait for each other). Every ack's latency is kept, and so is every sign of trouble:
an HTTP status other than 200, a private answer that apologises, a request that never got its
answer, an ERROR or WARNING line or a traceback in the bot's log, and outbox rows that were not
delivered exactly once by the end. The bot's RSS (from /proc/<pid>/status) is sampled as it runs.

Used by tests/reliability/test_load.py (60 s) and bench/soak_slack.py (10 minutes).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.adapters.base import DeliveryKind  # noqa: E402
from bot.commands._question_post import RESOLVE_ACTION  # noqa: E402
from bot.commands.ask import POST_ACTION  # noqa: E402
from bot.limits import INTERACTION_ACK_SECONDS  # noqa: E402
from bot.store.models import OutboxStatus  # noqa: E402
from tests.adapters._slack_fakes import TEAM_ID, FakeSlackAPI, sign  # noqa: E402
from tests.reliability._processes import BotProcess, slack_fleet  # noqa: E402
from tests.reliability._state import outbox_rows, posted_keys  # noqa: E402

# Slack's deadline for acknowledging a command, button press or event.
ACK_DEADLINE_SECONDS = INTERACTION_ACK_SECONDS
# How long, after the last request, the bot may take to answer everything and empty its outbox.
SETTLE_SECONDS = 120.0
RSS_SAMPLE_SECONDS = 30.0

TOPICS = (
    "kubernetes",
    "python",
    "career",
    "interviews",
    "leadership",
    "design",
    "testing",
    "frontend",
    "databases",
    "security",
    "communication",
    "salary",
)
CHANNELS = ("C0GENERAL", "C0ASK", "C0ENG", "C0CAREER")
SUBJECTS = (
    "roll out a cluster upgrade without downtime",
    "prepare for a system design interview",
    "give feedback to a senior colleague",
    "pick a first open source project",
    "negotiate a raise after a promotion",
    "keep flaky tests out of the main branch",
    "move a team from REST to events",
    "learn enough SQL to read query plans",
    "say no to a project without burning bridges",
    "review a pull request kindly and quickly",
    "structure a one-to-one with a new report",
    "run a blameless postmortem",
)
OPENERS = ("How do you", "What is the best way to", "Any advice on how to", "How would you")
CONTEXTS = (
    "",
    " We are a team of six.",
    " I tried twice already.",
    " First time for me.",
    " Deadline is next week.",
)
REPLIES = (
    "We did this last quarter: start small and write down what broke.",
    "Pair with someone who has done it before, it saves weeks.",
    "There is a good talk on exactly this, happy to share notes.",
    "Time-box it and ask for feedback early.",
)
SORRY = re.compile(r"something went wrong|can't reach my database|try again in a moment", re.I)
LOG_TROUBLE = re.compile(r"^\S+ \S+ (ERROR|CRITICAL|WARNING) ", re.M)

# The mix: (what, weight). Thread replies and lookups dominate, as in a live community.
MIX: tuple[tuple[str, int], ...] = (
    ("ask", 12),
    ("reply", 20),
    ("askme_add", 8),
    ("askme_list", 6),
    ("whoknows", 14),
    ("coffee", 5),
    ("pair_join", 5),
    ("pair_status", 6),
    ("help", 5),
    ("profile", 8),
    ("resolve", 6),
    ("post_draft", 5),
)


@dataclass
class LoadConfig:
    """What to send, how fast and for how long."""

    members: int = 1000
    seconds: float = 60.0
    rate: float = 20.0  # requests per second
    seed: int = 1
    rss_every: float = RSS_SAMPLE_SECONDS
    settings: dict[str, str] = field(default_factory=dict)  # extra bot environment


@dataclass
class Sent:
    """One request: what it was, when it went, how it was acked and answered."""

    kind: str
    member: str
    started: float
    latency: float | None = None
    status: int | None = None
    error: str = ""
    expects_answer: bool = True


@dataclass
class LoadResult:
    """Everything one run measured."""

    config: LoadConfig
    sent: list[Sent]
    wall_seconds: float
    answers: dict[str, list[dict[str, Any]]]
    outbox_total: int
    outbox_sent: int
    outbox_not_sent: list[str]
    duplicates: dict[str, int]
    missing_on_slack: list[str]
    updates_queued: int
    updates_made: int
    log_trouble: list[str]
    rss_kib: list[tuple[float, int]]
    handled: dict[str, int]
    unanswered: list[str]
    delivery_delays: list[float]  # seconds from queueing to delivery, per sent row

    @property
    def latencies(self) -> list[float]:
        return [s.latency for s in self.sent if s.latency is not None]

    @property
    def errors(self) -> list[str]:
        """Return every error, one line each; empty means the run was clean."""
        found = [f"{s.kind} by {s.member}: {s.error}" for s in self.sent if s.error]
        for tag, answers in self.answers.items():
            found += [f"answer to {tag}: {a.get('text', '')[:200]}" for a in answers if _sorry(a)]
        found += [f"never answered: {tag}" for tag in self.unanswered]
        found += [f"outbox row not sent: {key}" for key in self.outbox_not_sent]
        found += [f"on Slack {n} times: {key}" for key, n in self.duplicates.items()]
        found += [f"never reached Slack: {key}" for key in self.missing_on_slack]
        if self.updates_made != self.updates_queued:
            found.append(f"{self.updates_queued} edits queued, {self.updates_made} made")
        found += [f"bot log: {line}" for line in self.log_trouble]
        return found

    def summary(self) -> dict[str, Any]:
        """Return the figures, rounded, as one JSON-ready object."""
        latencies = sorted(self.latencies)
        delays = sorted(self.delivery_delays)
        rss = [kib for _, kib in self.rss_kib]
        return {
            "members": self.config.members,
            "seconds": self.config.seconds,
            "target_rate": self.config.rate,
            "requests": len(self.sent),
            "requests_per_second": round(len(self.sent) / self.wall_seconds, 2),
            "by_kind": dict(sorted(Counter(s.kind for s in self.sent).items())),
            "errors": len(self.errors),
            "ack_ms": {
                "p50": _ms(percentile(latencies, 50)),
                "p95": _ms(percentile(latencies, 95)),
                "p99": _ms(percentile(latencies, 99)),
                "max": _ms(latencies[-1] if latencies else 0.0),
                "mean": _ms(statistics.fmean(latencies) if latencies else 0.0),
            },
            "acks_over_deadline": sum(x >= ACK_DEADLINE_SECONDS for x in latencies),
            "answers": sum(len(a) for a in self.answers.values()),
            "outbox_rows": self.outbox_total,
            "outbox_sent": self.outbox_sent,
            "duplicates": sum(n - 1 for n in self.duplicates.values()),
            "edits": self.updates_made,
            "queued_to_delivered_ms": {
                "p50": _ms(percentile(delays, 50)),
                "p99": _ms(percentile(delays, 99)),
                "max": _ms(delays[-1] if delays else 0.0),
            },
            "handled": self.handled,
            "rss_mib": {
                "start": _mib(rss[0]) if rss else None,
                # The first sample under load, once caches and connection pools are warm.
                "warm": _mib(rss[1]) if len(rss) > 2 else None,
                "end": _mib(rss[-1]) if rss else None,
                "peak": _mib(max(rss)) if rss else None,
                "growth": _mib(rss[-1] - rss[0]) if rss else None,
                "growth_since_warm": _mib(rss[-1] - rss[1]) if len(rss) > 2 else None,
            },
        }


def percentile(ordered: list[float], pct: float) -> float:
    """Return the nearest-rank percentile of a sorted list."""
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _mib(kib: int) -> float:
    return round(kib / 1024, 1)


def _sorry(answer: dict[str, Any]) -> bool:
    return bool(SORRY.search(json.dumps(answer)))


def rss_kib(pid: int) -> int:
    """Return a process's resident set size in KiB, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise LookupError(f"no VmRSS for {pid}")


def _buttons(answer: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (action_id, value) of every button in a message or answer."""
    found = []
    for block in answer.get("blocks") or []:
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                found.append((str(element.get("action_id")), str(element.get("value"))))
    return found


class Workspace:
    """Members who talk to the bot over signed HTTP, and what they remember of its answers."""

    def __init__(self, api: FakeSlackAPI, url: str, config: LoadConfig) -> None:
        self.api = api
        self.url = url
        self.config = config
        self.random = random.Random(config.seed)
        self.members = [f"U0M{n:05d}" for n in range(config.members)]
        self.tagged: dict[str, list[str]] = {}  # topic -> members who added it
        self.drafts: list[tuple[str, str]] = []  # (member, question id) held for similar ones
        self.seen_posts = 0
        self.known_posts: set[str] = set()
        self.open_questions: list[tuple[str, str, str]] = []  # (channel, ts, question id)
        self.askers: dict[str, str] = {}  # question id -> asker
        self.posts: dict[str, dict[str, Any]] = {}  # question id -> its post on Slack
        self.replied: set[str] = set()  # question ids with at least one reply
        self.sent: list[Sent] = []
        self.answers: dict[str, list[dict[str, Any]]] = {}
        self._tags = 0
        self._ts = 0
        self.session: aiohttp.ClientSession | None = None

    # ---- what members do ----------------------------------------------------------------------

    def pick(self) -> tuple[str, str, Callable[[str], Awaitable[int]]]:
        """Choose the next request: (kind, member, send)."""
        self._learn_posts()
        self._learn_drafts()
        kinds, weights = zip(*MIX, strict=True)
        kind = self.random.choices(kinds, weights)[0]
        if kind == "resolve" and not (self.replied & set(self.askers)):
            kind = "ask"
        if kind == "reply" and not self.open_questions:
            kind = "ask"
        if kind == "post_draft" and not self.drafts:
            kind = "whoknows"
        if kind == "coffee" and not self.tagged:
            kind = "askme_add"
        member = self.random.choice(self.members)
        topic = self.random.choice(TOPICS)
        if kind == "ask":
            others = self.random.sample(TOPICS, self.random.randint(0, 2))
            subject = self.random.choice(SUBJECTS)
            text = f"{self.random.choice(OPENERS)} {subject}?{self.random.choice(CONTEXTS)}"
            tags = " ".join(f"#{t}" for t in {topic, *others})
            return kind, member, self._command(member, "/ask", f"{text} {tags}")
        if kind == "askme_add":
            self.tagged.setdefault(topic, []).append(member)
            return kind, member, self._command(member, "/askme", f"add {topic}")
        if kind == "askme_list":
            return kind, member, self._command(member, "/askme", "list")
        if kind == "whoknows":
            return kind, member, self._command(member, "/whoknows", topic)
        if kind == "coffee":
            topic = self.random.choice(sorted(self.tagged))
            target = self.random.choice(self.tagged[topic])
            line = f"<@{target}|{target.lower()}> {topic} Twenty minutes on this some day?"
            return kind, member, self._command(member, "/coffee", line)
        if kind == "pair_join":
            return kind, member, self._command(member, "/pair", "join")
        if kind == "pair_status":
            return kind, member, self._command(member, "/pair", "status")
        if kind == "help":
            return kind, member, self._command(member, "/crowdmentor", "help")
        if kind == "profile":
            return kind, member, self._command(member, "/crowdmentor", "profile")
        if kind == "reply":
            channel, ts, question = self.random.choice(self.open_questions)
            self.replied.add(question)
            return kind, member, self._reply(member, channel, ts)
        if kind == "resolve":
            question = self.random.choice(sorted(self.replied & set(self.askers)))
            asker = self.askers.pop(question)
            self.open_questions = [q for q in self.open_questions if q[2] != question]
            return kind, asker, self._press(asker, RESOLVE_ACTION, question, self.posts[question])
        member, question = self.drafts.pop(self.random.randrange(len(self.drafts)))
        return "post_draft", member, self._press(member, POST_ACTION, question, None)

    def _question_of(self, post: dict[str, Any]) -> str | None:
        for action_id, value in _buttons(post):
            if action_id == RESOLVE_ACTION:
                return value
        return None

    def _learn_posts(self) -> None:
        """Remember the questions the bot has posted since the last look, and who asked."""
        posts = self.api.posts()
        if len(posts) == self.seen_posts:
            return
        for post in posts:
            if post["ts"] in self.known_posts:
                continue
            self.known_posts.add(post["ts"])
            question = self._question_of(post)
            asker = re.search(r"<@(U\w+)>", str(post.get("text", "")) + json.dumps(post))
            if question and asker and "thread_ts" not in post:
                self.open_questions.append((post["channel"], post["ts"], question))
                self.askers[question] = asker.group(1)
                self.posts[question] = post
        self.seen_posts = len(posts)

    def _learn_drafts(self) -> None:
        """Remember the questions held back to show similar ones, to post some of them."""
        for tag, answers in self.answers.items():
            if not tag.startswith("ask-") or not answers or answers[0].get("_seen"):
                continue
            answers[0]["_seen"] = True
            for action_id, value in _buttons(answers[0]):
                if action_id == POST_ACTION:
                    self.drafts.append((tag.split("-")[1], value))

    # ---- how it goes over the wire ------------------------------------------------------------

    def _tag(self, kind: str, member: str) -> str:
        self._tags += 1
        return f"{kind.replace('_', '')}-{member}-{self._tags}"

    def _command(self, member: str, command: str, text: str) -> Callable[[str], Awaitable[int]]:
        async def send(tag: str) -> int:
            body = urlencode(
                {
                    "token": "legacy-verification-token",
                    "team_id": TEAM_ID,
                    "team_domain": "test",
                    "channel_id": self.random.choice(CHANNELS),
                    "channel_name": "general",
                    "user_id": member,
                    "user_name": member.lower(),
                    "command": command,
                    "text": text,
                    "api_app_id": "A0001",
                    "response_url": f"{self.api.base}/response/{tag}",
                    "trigger_id": f"trigger-{tag}",
                }
            )
            return await self._post(body, "application/x-www-form-urlencoded")

        return send

    def _press(
        self, member: str, action_id: str, value: str, post: dict[str, Any] | None
    ) -> Callable[[str], Awaitable[int]]:
        channel = post["channel"] if post else "C0GENERAL"
        message_ts = post["ts"] if post else "1700000000.000001"

        async def send(tag: str) -> int:
            payload = {
                "type": "block_actions",
                "team": {"id": TEAM_ID, "domain": "test"},
                "user": {"id": member, "username": member.lower(), "team_id": TEAM_ID},
                "api_app_id": "A0001",
                "trigger_id": f"trigger-{tag}",
                "channel": {"id": channel, "name": "general"},
                "container": {
                    "type": "message",
                    "message_ts": message_ts,
                    "channel_id": channel,
                    "is_ephemeral": post is None,
                },
                "message": {"ts": message_ts, "type": "message"},
                "response_url": f"{self.api.base}/response/{tag}",
                "actions": [
                    {
                        "type": "button",
                        "action_id": action_id,
                        "block_id": "b1",
                        "value": value,
                        "action_ts": f"{time.time():.6f}",
                    }
                ],
            }
            body = urlencode({"payload": json.dumps(payload)})
            return await self._post(body, "application/x-www-form-urlencoded")

        return send

    def _reply(self, member: str, channel: str, thread_ts: str) -> Callable[[str], Awaitable[int]]:
        self._ts += 1
        ts = f"{1800000000 + self._ts // 1000000}.{self._ts % 1000000:06d}"

        async def send(tag: str) -> int:
            event = {
                "type": "message",
                "channel": channel,
                "channel_type": "channel",
                "user": member,
                "text": self.random.choice(REPLIES),
                "ts": ts,
                "thread_ts": thread_ts,
            }
            body = json.dumps(
                {
                    "token": "legacy-verification-token",
                    "team_id": TEAM_ID,
                    "api_app_id": "A0001",
                    "type": "event_callback",
                    "event_id": f"Ev{tag.replace('-', '')}",
                    "event_time": int(time.time()),
                    "authorizations": [{"team_id": TEAM_ID, "user_id": "UBOT0001", "is_bot": True}],
                    "event": event,
                }
            )
            return await self._post(body, "application/json")

        return send

    async def _post(self, body: str, content_type: str) -> int:
        assert self.session is not None
        timestamp = int(time.time())
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": sign(body, timestamp),
        }
        async with self.session.post(self.url, data=body, headers=headers) as response:
            await response.read()
            return response.status

    async def request(self) -> None:
        """Send one request now and record its ack."""
        kind, member, send = self.pick()
        tag = self._tag(kind, member)
        sent = Sent(kind, member, time.perf_counter(), expects_answer=kind != "reply")
        self.sent.append(sent)
        if sent.expects_answer:
            self.answers[tag] = []
        try:
            sent.status = await send(tag)
        except Exception as error:  # every failure is a finding, kept for the report
            sent.error = repr(error)
        else:
            if sent.status != 200:
                sent.error = f"HTTP {sent.status}"
        finally:
            sent.latency = time.perf_counter() - sent.started


def _record_answers(api: FakeSlackAPI, workspace: Workspace, seen: int) -> int:
    """File the answers posted to response_urls since `seen` under their request's tag."""
    for answer in api.responses[seen:]:
        tag = answer["url"].rsplit("/", 1)[1]
        workspace.answers.setdefault(tag, []).append(answer)
    return len(api.responses)


async def _settle(
    api: FakeSlackAPI, workspace: Workspace, bot: BotProcess, database_url: str, seen: int
) -> int:
    """Wait until every request has its answer and the outbox holds nothing pending."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        seen = _record_answers(api, workspace, seen)
        unanswered = [tag for tag, answers in workspace.answers.items() if not answers]
        rows = await outbox_rows(database_url)
        pending = [r for r in rows if r.status == OutboxStatus.PENDING]
        handled = (await bot.health())["handled"]
        replies = sum(1 for s in workspace.sent if s.kind == "reply")
        if not unanswered and not pending and handled.get("message", 0) >= replies:
            return seen
        await asyncio.sleep(0.25)
    return seen


async def run_load(
    config: LoadConfig,
    database_url: str,
    directory: Path,
    progress: Callable[[str], None] | None = None,
) -> LoadResult:
    """Start the bot, send the mix for `config.seconds`, wait for it to settle, and measure."""
    async with slack_fleet(database_url, directory) as fleet:
        bot = await fleet.start("load", **config.settings)
        workspace = Workspace(fleet.api, bot.events_url, config)
        rss: list[tuple[float, int]] = [(0.0, rss_kib(bot.process.pid))]
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            workspace.session = session
            in_flight: set[asyncio.Task[None]] = set()
            seen = 0
            started = time.perf_counter()
            next_sample = config.rss_every
            total = int(config.seconds * config.rate)
            for number in range(total):
                due = started + number / config.rate
                if (delay := due - time.perf_counter()) > 0:
                    await asyncio.sleep(delay)
                seen = _record_answers(fleet.api, workspace, seen)
                task = asyncio.create_task(workspace.request())
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                elapsed = time.perf_counter() - started
                if elapsed >= next_sample:
                    rss.append((elapsed, rss_kib(bot.process.pid)))
                    next_sample += config.rss_every
                    if progress:
                        progress(f"{elapsed:6.0f} s  {number + 1} requests  RSS {rss[-1][1]} KiB")
            if in_flight:
                await asyncio.gather(*in_flight)
            wall = time.perf_counter() - started
            seen = await _settle(fleet.api, workspace, bot, database_url, seen)
            rss.append((time.perf_counter() - started, rss_kib(bot.process.pid)))
            handled = dict((await bot.health())["handled"])
        rows = await outbox_rows(database_url)
        posts = [r for r in rows if r.kind != DeliveryKind.UPDATE]
        on_slack, queued = posted_keys(fleet.api), Counter(r.key for r in posts)
        updates = [r for r in rows if r.kind == DeliveryKind.UPDATE]
        log = bot.log()
        trouble = [m.group(0) + _rest(log, m.end()) for m in LOG_TROUBLE.finditer(log)]
        trouble += ["Traceback"] * log.count("Traceback")
        return LoadResult(
            config=config,
            sent=workspace.sent,
            wall_seconds=wall,
            answers={
                tag: [{k: v for k, v in a.items() if k != "_seen"} for a in answers]
                for tag, answers in workspace.answers.items()
            },
            outbox_total=len(rows),
            outbox_sent=sum(r.status == OutboxStatus.SENT for r in rows),
            outbox_not_sent=[
                f"{r.key} ({r.status}: {r.last_error})"
                for r in rows
                if r.status != OutboxStatus.SENT
            ],
            duplicates={k: n for k, n in on_slack.items() if n > 1},
            missing_on_slack=sorted(set(queued) - set(on_slack)),
            updates_queued=len(updates),
            updates_made=len(fleet.api.called("chat.update")),
            log_trouble=trouble,
            rss_kib=rss,
            handled=handled,
            delivery_delays=[
                (r.sent_at - r.created_at).total_seconds() for r in rows if r.sent_at is not None
            ],
            unanswered=sorted(tag for tag, answers in workspace.answers.items() if not answers),
        )


def _rest(log: str, start: int) -> str:
    end = log.find("\n", start)
    return log[start : end if end >= 0 else None][:300]
