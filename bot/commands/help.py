"""`/crowdmentor` and its help, generated from the registry."""

from __future__ import annotations

from bot.context import Context
from bot.errors import NotFoundError
from bot.registry import Access, CommandSpec, Param, ParamKind, command, group
from bot.replies import Bold, Code, Italic, Reply, Rich, Section, rich

CROWDMENTOR = group("crowdmentor", summary="Help, your questions, profile and community settings")

_ACCESS_NOTE = {Access.MODERATOR: " (moderators)", Access.ADMIN: " (admins)"}


def _line(spec: CommandSpec) -> Rich:
    return rich(Code(spec.usage()), f": {spec.summary}", Italic(_ACCESS_NOTE.get(spec.access, "")))


@command(
    "crowdmentor",
    "help",
    summary="Show what crowdmentor can do, or how to use one command",
    params=(Param("command", ParamKind.TEXT, "A command to explain, e.g. ask"),),
    examples=("/crowdmentor help", "/crowdmentor help ask"),
)
async def help_(ctx: Context, command: str | None = None) -> Reply:
    """List every command, or explain one."""
    if command:
        words = tuple(command.lower().lstrip("/").split())
        spec = ctx.registry.commands.get(words)
        if spec is None:
            raise NotFoundError(
                rich(
                    "There's no ",
                    Code(f"/{command.lstrip('/')}"),
                    ". Try ",
                    Code("/crowdmentor help"),
                    ".",
                )
            )
        specs = (
            [spec]
            if spec.handler
            else [s for s in ctx.registry.runnable() if s.path[: len(words)] == words]
        )
        sections = []
        for item in specs:
            body = rich(item.summary, Italic(_ACCESS_NOTE.get(item.access, "")))
            for param in item.params:
                body += rich("\n• ", Bold(param.name), f": {param.description}")
            for example in item.examples:
                body += rich("\n", Code(example))
            sections.append(Section(heading=rich(Code(item.usage())), body=body))
        return Reply(sections=tuple(sections))
    lines = [rich(_line(spec), "\n") for spec in ctx.registry.runnable()]
    return Reply(
        text=rich(
            Bold("crowdmentor"),
            ": ask the group, find someone with time for you, meet your peers.",
        ),
        sections=(
            Section(body=rich(*lines)),
            Section(body=rich("More on one command: ", Code("/crowdmentor help ask"))),
        ),
    )
