"""The `crowdmentor` command line (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from bot.logs import setup_logging
from bot.settings import Settings

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crowdmentor",
        description="Mentorship that scales: advice threads, 'ask me about' tags, peer pairing.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "run", help="start every configured platform (the console when none is configured)"
    )
    console = commands.add_parser("console", help="the local console community")
    console.add_argument("--as", dest="user", metavar="NAME", help="who you are")
    console.add_argument("--in", dest="channel", metavar="CHANNEL", help="where you are")
    console.add_argument(
        "--execute",
        "-e",
        action="append",
        metavar="LINE",
        help="run this line and exit (repeatable)",
    )
    slack = commands.add_parser("slack", help="Slack only (Socket Mode, or HTTP with --http)")
    slack.add_argument(
        "--http", action="store_true", help="serve HTTP even if SLACK_APP_TOKEN is set"
    )
    slack.add_argument("--port", type=int, help="HTTP port (default: $PORT or 3000)")
    manifest = commands.add_parser("slack-manifest", help="print the Slack app manifest")
    manifest.add_argument("--url", help="public base URL for HTTP mode (request URLs)")
    commands.add_parser("discord", help="Discord only")
    pair = commands.add_parser("pair", help="pairing tools")
    pair_commands = pair.add_subparsers(dest="pair_command", metavar="PAIR_COMMAND", required=True)
    simulate = pair_commands.add_parser(
        "simulate", help="run the matching engine on synthetic members (preview, benchmark)"
    )
    from bot.matching.simulate_cli import add_arguments

    add_arguments(simulate)
    database = commands.add_parser("db", help="database maintenance")
    db_commands = database.add_subparsers(dest="db_command", metavar="DB_COMMAND", required=True)
    db_commands.add_parser("upgrade", help="apply database migrations")
    return parser


async def _console(
    settings: Settings, user: str | None, channel: str | None, lines: list[str] | None
) -> int:
    from bot.adapters.console import run_console
    from bot.app import App

    app = App(settings)
    return await run_console(
        app,
        user=(user or settings.console.default_user).lstrip("@"),
        channel=(channel or settings.console.default_channel).lstrip("#"),
        lines=lines,
    )


async def _run(settings: Settings) -> int:
    from bot.runner import configured_platforms, serve_platforms

    platforms = configured_platforms(settings)
    if not platforms:
        return await _console(settings, None, None, None)
    return await serve_platforms(settings, {name: {} for name in platforms})


async def _platform(settings: Settings, name: str, options: dict[str, object]) -> int:
    from bot.runner import serve_platforms

    return await serve_platforms(settings, {name: options})


def _slack_manifest(url: str | None) -> int:
    import json

    from bot.adapters.slack_manifest import manifest
    from bot.registry import build_registry

    print(json.dumps(manifest(build_registry(), url), indent=2))
    return 0


async def _db_upgrade(settings: Settings) -> int:
    from bot.store import migrate

    await migrate.upgrade(settings.database_url)
    log.info("database is up to date")
    return 0


def _platforms(settings: Settings) -> list[str]:
    from bot.runner import configured_platforms

    return configured_platforms(settings)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line."""
    args = _parser().parse_args(argv)
    settings = Settings()
    command = args.command or "run"
    # In the console, log lines would interleave with the chat: only warnings, unless asked.
    quiet_console = command == "console" or (command == "run" and not _platforms(settings))
    chosen = os.environ.get("LOG_LEVEL") or ("WARNING" if quiet_console else settings.log_level)
    setup_logging(chosen, secrets=settings.secret_values())
    try:
        if command == "console":
            return asyncio.run(_console(settings, args.user, args.channel, args.execute))
        if command == "db":
            return asyncio.run(_db_upgrade(settings))
        if command == "slack":
            options = {"http": args.http, "port": args.port}
            return asyncio.run(_platform(settings, "slack", options))
        if command == "slack-manifest":
            return _slack_manifest(args.url)
        if command == "pair":
            from bot.matching.simulate_cli import main as simulate

            return simulate(args)
        if command == "discord":
            return asyncio.run(_platform(settings, "discord", {}))
        return asyncio.run(_run(settings))
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the last line of defence: say what went wrong, plainly
        from bot.app import SchemaOutOfDateError

        if isinstance(error, SchemaOutOfDateError):
            log.error("%s", error)
            return 2
        log.exception("crowdmentor stopped")
        return 1


if __name__ == "__main__":
    sys.exit(main())
