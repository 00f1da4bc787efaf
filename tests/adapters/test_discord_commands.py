"""Discord application commands are generated from the registry and synced only on change."""

from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord_commands import (
    GUILD_INSTALL,
    GUILD_ONLY,
    command_payload,
    fingerprint,
    install,
)
from bot.args import ChannelRef, UserRef
from bot.registry import CommandSpec, Param, ParamKind, Registry, build_registry, group
from bot.replies import Reply
from tests.adapters._discord_fakes import (
    ADA,
    BOB,
    FakeDiscord,
    discord_world,
    internals_available,
    restarted,
)

OPTION_TYPES = {
    ParamKind.WORD: 3,
    ParamKind.TEXT: 3,
    ParamKind.CHOICE: 3,
    ParamKind.INT: 4,
    ParamKind.FLAG: 5,
    ParamKind.USER: 6,
    ParamKind.CHANNEL: 7,
}


def generated(registry: Registry) -> list[dict[str, Any]]:
    client = discord.Client(intents=discord.Intents.none())
    tree = app_commands.CommandTree(
        client, allowed_contexts=GUILD_ONLY, allowed_installs=GUILD_INSTALL
    )

    async def run(interaction, spec, values):
        return None

    install(tree, registry, run)
    return command_payload(tree)


def find(payload: list[dict[str, Any]], path: tuple[str, ...]) -> dict[str, Any]:
    [node] = [c for c in payload if c["name"] == path[0]]
    for word in path[1:]:
        [node] = [o for o in node["options"] if o["name"] == word and o["type"] in (1, 2)]
    return node


def test_discord_fakes_still_reach_discord_py_internals():
    # The fake leans on Route.BASE and ConnectionState.parse_*; an upgrade must fail here first.
    assert discord.__version__ == "2.7.1"
    assert internals_available()


def test_every_registry_command_becomes_a_typed_application_command():
    registry = build_registry()
    payload = generated(registry)

    assert sorted(c["name"] for c in payload) == [s.name for s in registry.roots()]
    for command in payload:
        assert command["type"] == 1
        assert command["contexts"] == [0]  # inside servers only
        assert command["integration_types"] == [0]
    for spec in registry.runnable():
        node = find(payload, spec.path)
        assert node["type"] == 1  # a command or subcommand
        assert node["description"] == spec.summary
        assert len(node["description"]) <= 100
        options = {o["name"]: o for o in node["options"]}
        assert set(options) == {p.name for p in spec.params}, spec.qualified
        for param in spec.params:
            option = options[param.name]
            assert option["type"] == OPTION_TYPES[param.kind], (spec.qualified, param.name)
            assert option["required"] == param.required
            assert option["description"] == param.description
            assert 1 <= len(option["description"]) <= 100
            if param.kind is ParamKind.CHOICE:
                assert [c["value"] for c in option["choices"]] == list(param.choices)
            if param.kind is ParamKind.INT and param.min_value is not None:
                assert (option["min_value"], option["max_value"]) == (
                    param.min_value,
                    param.max_value,
                )
        # Discord refuses required options after optional ones.
        required = [o["required"] for o in node["options"]]
        assert required == sorted(required, reverse=True), spec.qualified


def test_registry_groups_become_subcommand_groups():
    payload = generated(build_registry())

    crowdmentor = find(payload, ("crowdmentor",))
    kinds = {o["name"]: o["type"] for o in crowdmentor["options"]}
    assert kinds["settings"] == 2  # subcommand group
    assert kinds["help"] == 1  # subcommand
    settings = find(payload, ("crowdmentor", "settings"))
    assert {o["name"] for o in settings["options"]} >= {"ask-channel", "anonymous", "show"}
    assert all(o["type"] == 1 for o in settings["options"])
    ask_channel = find(payload, ("crowdmentor", "settings", "ask-channel"))
    [channel] = ask_channel["options"]
    assert 4 not in channel["channel_types"]  # a category cannot hold a question
    assert {0, 15} <= set(channel["channel_types"])  # text and forum channels can


async def _record(ctx, **kwargs):
    RECORDED.append(kwargs)
    return Reply.say("ok")


RECORDED: list[dict[str, Any]] = []


def tool_registry() -> Registry:
    """A registry with every parameter kind and both nesting depths, and no adapter code."""
    registry = Registry()
    registry.add(group("tool", summary="Tools"))
    registry.add(group("tool", "deep", summary="Deeper tools"))
    registry.add(
        CommandSpec(
            path=("tool", "echo"),
            summary="Echo every kind of option",
            params=(
                Param("word", ParamKind.WORD, "A word", max_length=20),
                Param("count", ParamKind.INT, "How many", required=True, min_value=1, max_value=9),
                Param("loud", ParamKind.FLAG, "Shout it"),
                Param("who", ParamKind.USER, "Someone"),
                Param("where", ParamKind.CHANNEL, "Somewhere"),
                Param("mood", ParamKind.CHOICE, "A mood", choices=("calm", "glad")),
                Param("rest-of-it", ParamKind.TEXT, "The rest", max_length=300),
            ),
            handler=_record,
        )
    )
    registry.add(CommandSpec(path=("tool", "deep", "ping"), summary="x" * 100, handler=_record))
    registry.validate()
    return registry


def test_options_follow_param_kinds_with_limits_and_renamed_hyphens():
    payload = generated(tool_registry())

    echo = find(payload, ("tool", "echo"))
    options = {o["name"]: o for o in echo["options"]}
    assert echo["options"][0]["name"] == "count"  # the required one first
    assert options["word"]["max_length"] == 20
    assert (options["count"]["min_value"], options["count"]["max_value"]) == (1, 9)
    assert options["loud"]["type"] == 5
    assert options["who"]["type"] == 6
    assert options["where"]["type"] == 7
    assert options["mood"]["choices"] == [
        {"name": "calm", "value": "calm"},
        {"name": "glad", "value": "glad"},
    ]
    assert options["rest-of-it"]["max_length"] == 300
    assert find(payload, ("tool", "deep", "ping"))["description"] == "x" * 100


async def test_a_new_command_runs_with_typed_values_and_no_adapter_code(settings):
    RECORDED.clear()
    async with discord_world(settings, registry=tool_registry()) as world:
        payload = await world.slash(
            "/tool echo",
            count=3,
            word="hello",
            loud=True,
            who=BOB,
            where=world.forum,
            mood="glad",
            **{"rest-of-it": "and more"},
        )
        await world.slash("/tool deep ping")

    [echo, ping] = RECORDED
    assert echo["count"] == 3
    assert echo["word"] == "hello"
    assert echo["loud"] is True
    assert echo["who"] == UserRef(user_id=str(BOB.id), name="bob")
    assert echo["where"] == ChannelRef(str(world.forum), "questions")
    assert echo["mood"] == "glad"
    assert echo["rest-of-it"] == "and more"
    assert ping == {}
    [answer] = world.fake.answers(payload)
    assert answer.json["type"] == 4  # quick: answered directly
    assert answer.json["data"]["content"] == "ok"


async def test_commands_sync_on_first_start_and_not_again_until_they_change(settings):
    fake = FakeDiscord()
    async with discord_world(settings, fake=fake) as world:
        assert len(fake.sent("PUT", r"/applications/\d+/commands$")) == 1
        synced = fingerprint(fake.commands)

        async with restarted(world, settings):
            pass
        assert len(fake.sent("PUT", r"/applications/\d+/commands$")) == 1  # unchanged: no sync
        assert len(fake.sent("GET", r"/applications/\d+/commands$")) == 2

        # A new command (one more registry entry) is synced on the next start.
        registry = build_registry()
        registry.add(CommandSpec(path=("crowdmentor", "ping"), summary="Ping", handler=_record))
        async with restarted(world, settings, registry=registry):
            pass
    assert len(fake.sent("PUT", r"/applications/\d+/commands$")) == 2
    assert fingerprint(fake.commands) != synced
    assert find(fake.commands, ("crowdmentor", "ping"))["description"] == "Ping"


async def test_a_stale_command_gets_a_kind_answer(settings):
    async with discord_world(settings) as world:
        payload = world.fake.slash("/ask", question="hi")
        payload["data"]["name"] = "removed-command"
        await world.fake.interact(world.client, payload)

    [answer] = world.fake.answers(payload)
    assert answer.json["data"]["flags"] == 64
    assert "changed" in answer.json["data"]["content"]


async def test_commands_outside_a_server_get_a_kind_hint(settings):
    async with discord_world(settings) as world:
        payload = world.fake.slash("/crowdmentor help", in_=None, as_=ADA)
        await world.fake.interact(world.client, payload)

    [answer] = world.fake.answers(payload)
    assert answer.json["type"] == 4
    assert answer.json["data"]["flags"] == 64
    assert "works inside a server" in answer.json["data"]["content"]
