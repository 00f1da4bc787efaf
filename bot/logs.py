"""Logging with the invocation id on every line, so one request can be followed end to end."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
from collections.abc import Iterable, Iterator

current_invocation: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_invocation", default="-"
)

LOG_FORMAT = "%(asctime)s %(levelname)s [%(invocation_id)s] %(name)s: %(message)s"

# Slack tokens: bot (xoxb), user (xoxp), app-level (xapp is configured), refresh (xoxe/xoxr) and
# legacy (xoxa). Source: https://api.slack.com/authentication/token-types
SLACK_TOKEN = re.compile(r"xox[abpre]-[A-Za-z0-9-]+")
MASK = "***"
# Shorter configured values would mask ordinary words in every line.
SHORTEST_SECRET = 6


class InvocationIdFilter(logging.Filter):
    """Stamp each record with the invocation id of the task that logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add `invocation_id` to the record."""
        record.invocation_id = current_invocation.get()
        return True


class RedactSecrets(logging.Filter):
    """Mask configured secret values and Slack tokens in a record's message, args and traceback.

    Defence in depth: nothing should log a secret in the first place.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        values = sorted({s for s in secrets if len(s) >= SHORTEST_SECRET}, key=len, reverse=True)
        self.pattern = re.compile("|".join([*(re.escape(v) for v in values), SLACK_TOKEN.pattern]))

    def redact(self, text: str) -> str:
        """Return `text` with every secret masked."""
        return self.pattern.sub(MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message (args merged in) and traceback with masked text."""
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
            # The formatter would render the traceback again from exc_info, unmasked.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


@contextlib.contextmanager
def invocation_scope(invocation_id: str) -> Iterator[None]:
    """Tag every log line inside the block with `invocation_id`."""
    token = current_invocation.set(invocation_id)
    try:
        yield
    finally:
        current_invocation.reset(token)


def setup_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Send logs to stderr with invocation ids, every secret value masked."""
    handler = logging.StreamHandler()
    handler.addFilter(InvocationIdFilter())
    handler.addFilter(RedactSecrets(secrets))
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # SQLAlchemy and APScheduler are chatty at INFO; their warnings still show.
    for noisy in ("sqlalchemy", "apscheduler", "aiosqlite", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
