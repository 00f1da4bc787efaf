"""The `crowdmentor` command line (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
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
    platforms = [
        name
        for name, token in (
            ("Slack", settings.slack_bot_token),
            ("Discord", settings.discord_token),
        )
        if token is not None and token.get_secret_value()
    ]
    if platforms:
        log.error(
            "%s is configured, but this version of crowdmentor has only the console adapter; "
            "unset the token(s) to use the console.",
            " and ".join(platforms),
        )
        return 2
    return await _console(settings, None, None, None)


async def _db_upgrade(settings: Settings) -> int:
    from bot.store import migrate

    await migrate.upgrade(settings.database_url)
    log.info("database is up to date")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line."""
    args = _parser().parse_args(argv)
    settings = Settings()
    setup_logging(settings.log_level)
    command = args.command or "run"
    try:
        if command == "console":
            return asyncio.run(_console(settings, args.user, args.channel, args.execute))
        if command == "db":
            return asyncio.run(_db_upgrade(settings))
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
