"""Logging with the invocation id on every line, so one request can be followed end to end."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator

current_invocation: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_invocation", default="-"
)

LOG_FORMAT = "%(asctime)s %(levelname)s [%(invocation_id)s] %(name)s: %(message)s"


class InvocationIdFilter(logging.Filter):
    """Stamp each record with the invocation id of the task that logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add `invocation_id` to the record."""
        record.invocation_id = current_invocation.get()
        return True


@contextlib.contextmanager
def invocation_scope(invocation_id: str) -> Iterator[None]:
    """Tag every log line inside the block with `invocation_id`."""
    token = current_invocation.set(invocation_id)
    try:
        yield
    finally:
        current_invocation.reset(token)


def setup_logging(level: str = "INFO") -> None:
    """Send logs to stderr with invocation ids."""
    handler = logging.StreamHandler()
    handler.addFilter(InvocationIdFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # SQLAlchemy and APScheduler are chatty at INFO; their warnings still show.
    for noisy in ("sqlalchemy", "apscheduler", "aiosqlite", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
