"""Rules about the shape of the code that no single feature test would notice breaking."""

import ast
import re
import tomllib
import types
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from bot.registry import (
    CommandSpec,
    Param,
    ParamKind,
    Registry,
    RegistryError,
    build_registry,
    command,
)

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
PLATFORM_SDKS = {"slack_bolt", "slack_sdk", "discord"}
PLATFORM_NAME = re.compile(r"^[a-z0-9-]{1,32}$")


def _imported_roots(path: Path) -> set[str]:
    """Return the top-level package of every module a file imports (absolute imports only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def _may_use_platform_sdk(path: Path) -> bool:
    relative = path.relative_to(BOT)
    return (
        len(relative.parts) == 2
        and relative.parts[0] == "adapters"
        and (relative.name.startswith("slack") or relative.name.startswith("discord"))
    )


def test_import_scanner_sees_plain_from_and_nested_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import slack_sdk.web\n"
        "from discord import Client\n"
        "def later():\n"
        "    import slack_bolt\n"
        "from . import sibling\n",
        encoding="utf-8",
    )

    assert _imported_roots(sample) == {"slack_sdk", "discord", "slack_bolt"}


def test_only_slack_and_discord_adapters_import_platform_sdks():
    files = sorted(BOT.rglob("*.py"))
    assert len(files) > 20, "the walk should see the whole package"
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_roots(path) & PLATFORM_SDKS)
        for path in files
        if not _may_use_platform_sdk(path) and _imported_roots(path) & PLATFORM_SDKS
    }

    assert offenders == {}


def test_build_registry_validates_and_every_name_fits_discord_and_slack():
    registry = build_registry()
    registry.validate()

    assert ("ask",) in registry.commands
    assert ("crowdmentor", "questions") in registry.commands
    for spec in registry.commands.values():
        for word in spec.path:
            assert PLATFORM_NAME.match(word), f"{spec.qualified}: {word!r}"
        for param in spec.params:
            assert PLATFORM_NAME.match(param.name), f"{spec.qualified}: {param.name!r}"
            assert 1 <= len(param.description) <= 100, f"{spec.qualified}: {param.name}"
        assert 1 <= len(spec.summary) <= 100, spec.qualified
    # Slack counts the slash in its 32 characters.
    for root in registry.roots():
        assert len(root.qualified) <= 32


async def _handler(ctx):
    return None


def test_registering_the_same_command_twice_raises_registry_error():
    registry = Registry()
    registry.add(CommandSpec(path=("ping",), summary="Ping", handler=_handler))

    with pytest.raises(RegistryError, match="duplicate"):
        registry.add(CommandSpec(path=("ping",), summary="Ping again", handler=_handler))


def test_a_module_declaring_a_command_that_exists_cannot_be_loaded_twice():
    registry = build_registry()
    duplicate = types.ModuleType("duplicate_commands")

    @command("ask", summary="A second /ask")
    async def ask_again(ctx):
        return None

    ask_again.__module__ = duplicate.__name__
    duplicate.ask_again = ask_again

    with pytest.raises(RegistryError, match="duplicate command '/ask'"):
        registry.load_module(duplicate)


@pytest.mark.parametrize(
    "spec",
    [
        CommandSpec(path=("Ask",), summary="Upper case", handler=_handler),
        CommandSpec(path=("a" * 33,), summary="Too long", handler=_handler),
        CommandSpec(path=("ask me",), summary="Space", handler=_handler),
        CommandSpec(path=("ask",), summary="", handler=_handler),
        CommandSpec(path=("ask",), summary="x" * 101, handler=_handler),
        CommandSpec(
            path=("ask",),
            summary="Bad param",
            params=(Param("Question", ParamKind.TEXT, "Upper case param"),),
            handler=_handler,
        ),
    ],
    ids=["upper-case", "33-chars", "space", "empty-summary", "long-summary", "param-name"],
)
def test_registry_refuses_names_and_summaries_platforms_reject(spec):
    with pytest.raises(RegistryError):
        Registry().add(spec)


def test_pyproject_pins_apscheduler_below_4():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = [Requirement(dep) for dep in data["project"]["dependencies"]]
    [apscheduler] = [r for r in requirements if r.name.lower() == "apscheduler"]

    assert not apscheduler.specifier.contains("4.0.0", prereleases=True)
    assert not apscheduler.specifier.contains("4.0.0a5", prereleases=True)
    assert apscheduler.specifier.contains("3.11.0")


def test_migration_template_imports_sqlmodel():
    template = BOT / "store" / "migrations" / "script.py.mako"

    assert re.search(r"^import sqlmodel\b", template.read_text(encoding="utf-8"), re.MULTILINE)
