"""The command registry: specs, usage strings, the tree, and what it refuses."""

import types

import pytest

from bot.registry import (
    Access,
    ActionSpec,
    CommandSpec,
    HookSpec,
    Param,
    ParamKind,
    Registry,
    RegistryError,
    action,
    build_registry,
    command,
    group,
    on_delivered,
    on_form,
    on_thread_message,
    on_timer,
)


async def _handler(ctx, **kwargs):
    return None


def _cmd(*path: str, params=(), summary="Something", handler=_handler, access=Access.MEMBER):
    return CommandSpec(
        path=path, summary=summary, params=tuple(params), handler=handler, access=access
    )


# ---- CommandSpec ----------------------------------------------------------------------------


def test_command_spec_names_and_qualified_form():
    spec = _cmd("crowdmentor", "settings", "ask-channel")

    assert spec.name == "ask-channel"
    assert spec.qualified == "/crowdmentor settings ask-channel"


def test_usage_marks_required_and_optional_params_by_kind():
    spec = _cmd(
        "crowdmentor",
        "demo",
        params=[
            Param("quiet", ParamKind.FLAG, "Quiet"),
            Param("change", ParamKind.CHOICE, "Change", required=True, choices=("add", "remove")),
            Param("person", ParamKind.USER, "Who", required=True),
            Param("channel", ParamKind.CHANNEL, "Where"),
            Param("count", ParamKind.INT, "How many"),
            Param("text", ParamKind.TEXT, "Rest"),
        ],
    )

    assert spec.usage() == (
        "/crowdmentor demo [--quiet] <add|remove> <@person> [#channel] [count] [text]"
    )


def test_usage_of_a_command_without_params_is_its_name():
    assert _cmd("ask").usage() == "/ask"


# ---- decorators -----------------------------------------------------------------------------


def test_command_decorator_attaches_a_spec_and_returns_the_function():
    async def ping(ctx):
        return "pong"

    decorated = command(
        "ping", summary="Ping", examples=["/ping"], slow=True, access=Access.MODERATOR
    )(ping)
    registry = Registry()
    module = types.ModuleType("pingmod")
    decorated.__module__ = module.__name__
    module.ping = decorated
    registry.load_module(module)

    assert decorated is ping
    spec = registry.commands[("ping",)]
    assert spec.handler is ping
    assert spec.examples == ("/ping",)
    assert spec.slow is True
    assert spec.access is Access.MODERATOR


def test_action_and_hook_decorators_register_by_name():
    module = types.ModuleType("hooks")

    async def press(ctx, value):
        return None

    async def form(ctx, values):
        return None

    async def thread(ctx, message):
        return None

    async def timer(ctx, row):
        return None

    async def delivered(ctx, row, done):
        return None

    for fn in (press, form, thread, timer, delivered):
        fn.__module__ = module.__name__
        setattr(module, fn.__name__, fn)
    action("thing.press")(press)
    on_form("thing.form")(form)
    on_thread_message("thing.thread")(thread)
    on_timer("thing.timer")(timer)
    on_delivered("thing.delivered")(delivered)
    registry = Registry()
    registry.load_module(module)

    assert registry.actions["thing.press"] == ActionSpec("thing.press", press)
    assert registry.hook("form", "thing.form").handler is form
    assert registry.hook("thread_message", "thing.thread").handler is thread
    assert registry.hook("timer", "thing.timer").handler is timer
    assert registry.hook("delivered", "thing.delivered").handler is delivered
    assert registry.hook("timer", "nothing") is None
    assert [h.name for h in registry.hooks_of("timer")] == ["thing.timer"]


def test_one_function_may_carry_several_specs():
    module = types.ModuleType("multi")

    async def both(ctx, value):
        return None

    both.__module__ = module.__name__
    module.both = both
    action("one")(both)
    action("two")(both)
    registry = Registry()
    registry.load_module(module)

    assert set(registry.actions) == {"one", "two"}


def test_load_module_skips_specs_imported_from_another_module():
    home = types.ModuleType("home")
    borrower = types.ModuleType("borrower")

    async def ping(ctx):
        return None

    ping.__module__ = home.__name__
    command("ping", summary="Ping")(ping)
    home.ping = ping
    borrower.ping = ping  # as after `from home import ping`
    registry = Registry()
    registry.load_module(home)
    registry.load_module(borrower)

    assert list(registry.commands) == [("ping",)]


def test_group_is_registered_from_a_module_attribute():
    module = types.ModuleType("groups")
    module.TOP = group("top", summary="Top level")
    registry = Registry()
    registry.load_module(module)

    assert registry.commands[("top",)].handler is None


# ---- what the registry refuses --------------------------------------------------------------


def test_duplicate_command_is_refused():
    registry = Registry()
    registry.add(_cmd("ping"))

    with pytest.raises(RegistryError, match="duplicate command '/ping'"):
        registry.add(_cmd("ping", summary="Another"))


def test_duplicate_action_and_hook_are_refused():
    registry = Registry()
    registry.add(ActionSpec("press", _handler))
    registry.add(HookSpec("timer", "tick", _handler))

    with pytest.raises(RegistryError, match="duplicate action"):
        registry.add(ActionSpec("press", _handler))
    with pytest.raises(RegistryError, match="duplicate timer hook"):
        registry.add(HookSpec("timer", "tick", _handler))
    # The same name under another kind is a different hook.
    registry.add(HookSpec("form", "tick", _handler))


def test_more_than_three_words_is_refused():
    with pytest.raises(RegistryError, match="at most three words"):
        Registry().add(_cmd("a", "b", "c", "d"))


@pytest.mark.parametrize("name", ["Ask", "ask me", "ask_me", "-ask", "a" * 33, "", "ásk"])
def test_invalid_command_names_are_refused(name):
    with pytest.raises(RegistryError, match="not a valid command name"):
        Registry().add(_cmd(name))


@pytest.mark.parametrize("name", ["a", "ask", "ask-me", "q2", "a" * 32])
def test_valid_command_names_are_accepted(name):
    registry = Registry()
    registry.add(_cmd(name))

    assert (name,) in registry.commands


def test_invalid_param_names_are_refused():
    with pytest.raises(RegistryError, match="'Who' is not a valid command name"):
        Registry().add(_cmd("ping", params=[Param("Who", ParamKind.USER, "Who")]))


@pytest.mark.parametrize("summary", ["", "x" * 101])
def test_summary_must_be_1_to_100_chars(summary):
    with pytest.raises(RegistryError, match="summary"):
        Registry().add(_cmd("ping", summary=summary))
    Registry().add(_cmd("ping", summary="x" * 100))


@pytest.mark.parametrize("description", ["", "x" * 101])
def test_param_description_must_be_1_to_100_chars(description):
    with pytest.raises(RegistryError, match="description"):
        Registry().add(_cmd("ping", params=[Param("who", ParamKind.USER, description)]))


def test_text_param_must_come_last():
    params = [Param("text", ParamKind.TEXT, "Text"), Param("count", ParamKind.INT, "Count")]

    with pytest.raises(RegistryError, match="text parameter must come last"):
        Registry().add(_cmd("ping", params=params))


def test_validate_refuses_a_subcommand_without_its_group():
    registry = Registry()
    registry.add(_cmd("top", "sub"))

    with pytest.raises(RegistryError, match="no parent group"):
        registry.validate()


def test_validate_refuses_a_group_that_also_has_a_handler():
    registry = Registry()
    registry.add(_cmd("top"))
    registry.add(_cmd("top", "sub"))

    with pytest.raises(RegistryError, match="both a handler and subcommands"):
        registry.validate()


# ---- the tree -------------------------------------------------------------------------------


def test_roots_children_and_runnable_are_sorted():
    registry = Registry()
    registry.add(group("zeta", summary="Z"))
    registry.add(_cmd("zeta", "beta"))
    registry.add(_cmd("zeta", "alpha"))
    registry.add(group("zeta", "group", summary="G"))
    registry.add(_cmd("zeta", "group", "leaf"))
    registry.add(_cmd("ask"))
    registry.validate()

    assert [s.path for s in registry.roots()] == [("ask",), ("zeta",)]
    assert [s.name for s in registry.children(("zeta",))] == ["alpha", "beta", "group"]
    assert [s.name for s in registry.children(("zeta", "group"))] == ["leaf"]
    assert [s.qualified for s in registry.runnable()] == [
        "/ask",
        "/zeta alpha",
        "/zeta beta",
        "/zeta group leaf",
    ]


def test_build_registry_loads_the_shipped_commands_and_hooks():
    registry = build_registry()

    assert registry.commands[("ask",)].slow is True
    assert registry.commands[("crowdmentor",)].handler is None
    assert registry.commands[("crowdmentor", "settings", "show")].access is Access.ADMIN
    assert registry.hook("form", "ask") is not None
    assert {h.name for h in registry.hooks_of("timer")} >= {
        "question.draft",
        "question.nudge",
        "question.close",
    }
    assert "question.resolve" in registry.actions


def test_build_registry_skips_private_modules(tmp_path, monkeypatch):
    package = tmp_path / "fakecommands"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "public.py").write_text(
        "from bot.registry import command\n"
        "@command('ping', summary='Ping')\n"
        "async def ping(ctx):\n"
        "    return None\n"
    )
    (package / "_private.py").write_text(
        "from bot.registry import command\n"
        "@command('secret', summary='Secret')\n"
        "async def secret(ctx):\n"
        "    return None\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    registry = build_registry("fakecommands")

    assert list(registry.commands) == [("ping",)]
