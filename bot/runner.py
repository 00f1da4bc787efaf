"""Start the platforms configured in the environment, with the scheduler and delivery worker."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
from typing import Any

from bot.adapters.base import PlatformAdapter
from bot.app import App
from bot.settings import Settings

log = logging.getLogger(__name__)

# Imported only when chosen, so a missing platform library fails only for its own platform.
PLATFORM_BUILDERS = {
    "slack": "bot.adapters.slack:build",
    "discord": "bot.adapters.discord:build",
}


def configured_platforms(settings: Settings) -> list[str]:
    """Return the platforms whose tokens are set."""
    tokens = {"slack": settings.slack_bot_token, "discord": settings.discord_token}
    return [name for name, token in tokens.items() if token and token.get_secret_value()]


def build_adapter(name: str, app: App, options: dict[str, Any]) -> PlatformAdapter:
    """Build one platform's adapter."""
    module_name, _, function = PLATFORM_BUILDERS[name].partition(":")
    builder = getattr(importlib.import_module(module_name), function)
    adapter: PlatformAdapter = builder(app, options)
    return adapter


async def serve_platforms(
    settings: Settings, platforms: dict[str, dict[str, Any]], *, app: App | None = None
) -> int:
    """Run the given platforms until SIGINT/SIGTERM; return an exit code."""
    app = app or App(settings)
    adapters = [build_adapter(name, app, options) for name, options in platforms.items()]
    for adapter in adapters:
        app.add_adapter(adapter)
    async with app.running():
        tasks = [
            asyncio.create_task(adapter.serve(), name=adapter.platform) for adapter in adapters
        ]
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, lambda: [task.cancel() for task in tasks])
        log.info("crowdmentor is running on %s", ", ".join(platforms))
        results = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [r for r in results if isinstance(r, Exception)]
    for failure in failures:
        log.error("a platform stopped: %s", failure)
    return 1 if failures else 0
