"""The dispatcher: lookup with suggestions, permissions, one transaction, kind failures, logs."""

import asyncio
import logging

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.adapters.base import DeliveryKind
from bot.adapters.text_input import parse_command_line
from bot.clock import Clock
from bot.context import QuietRuntime, Services
from bot.dispatcher import Dispatcher
from bot.events import SUBCOMMAND_OPTION, Actor, Community, FormSubmission, Invocation, Place
from bot.logs import InvocationIdFilter
from bot.registry import Access, CommandSpec, Param, ParamKind, build_registry
from bot.replies import Code, Reply
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import CommunitySettings, Member, OutboxMessage

ADA = Actor("ada", "ada")


def _invocation(chat, line: str, *, as_: str = "ada", invocation_id: str | None = None):
    invocation = parse_command_line(line, chat.actor(as_), chat.community, Place("general"))
    if invocation_id is None:
        return invocation
    return Invocation(
        invocation.command,
        invocation.text,
        invocation.actor,
        invocation.community,
        invocation.place,
        invocation_id=invocation_id,
    )


async def _all(chat, model) -> list:
    async with chat.app.database.unit_of_work() as uow:
        return list((await uow.session.exec(select(model))).all())


def _add_command(chat, name: str, handler, **kwargs) -> None:
    chat.app.registry.add(
        CommandSpec(path=(name,), summary=f"Test {name}", handler=handler, **kwargs)
    )


# ---- forms first ---------------------------------------------------------------------------


def test_a_command_given_nothing_names_its_form_before_any_work(chat):
    from bot.commands.ask import ASK_FORM

    forms = chat.app.dispatcher

    assert forms.form_first("ask") is ASK_FORM
    assert forms.form_first("/ASK", "   ") is ASK_FORM
    assert forms.form_first("ask", options={SUBCOMMAND_OPTION: (), "question": None}) is ASK_FORM
    assert forms.form_first("ask", "How do I start?") is None
    assert forms.form_first("ask", options={SUBCOMMAND_OPTION: (), "anonymous": True}) is None
    assert forms.form_first("whoknows") is None  # declares no form
    assert forms.form_first("nosuchcommand") is None


def test_an_admin_command_never_opens_its_form_before_access_is_checked(chat):
    from bot.commands.ask import ASK_FORM

    async def settle(ctx):
        return Reply.say("settled")

    _add_command(chat, "adminform", settle, access=Access.ADMIN, form=ASK_FORM)

    assert chat.app.dispatcher.form_first("adminform") is None


# ---- lookup -------------------------------------------------------------------------------


async def test_unknown_command_suggests_the_closest_one(chat):
    reply = await chat.say("/ak How do I start?")

    assert Code("/ask") in reply.text.parts
    assert "I don't know /ak. Did you mean /ask?" in reply.plain()
    assert chat.posts() == []


async def test_unknown_command_with_nothing_close_points_to_help(chat):
    reply = await chat.say("/zzzz")

    assert "Did you mean" not in reply.plain()
    assert "/crowdmentor help" in reply.plain()


async def test_unknown_subcommand_suggests_the_closest_one(chat):
    reply = await chat.say("/crowdmentor questoins")

    plain = reply.plain()
    assert "“questoins” isn't a subcommand of /crowdmentor" in plain
    assert "Did you mean /crowdmentor questions?" in plain
    assert "help" in plain  # the choices are listed


async def test_unknown_nested_subcommand_suggests_the_closest_one(chat):
    reply = await chat.say("/crowdmentor settings shwo", as_="admin")

    assert "Did you mean /crowdmentor settings show?" in reply.plain()


async def test_a_group_alone_lists_its_subcommands(chat):
    reply = await chat.say("/crowdmentor")

    assert "Please choose from /crowdmentor" in reply.plain()
    assert "questions" in reply.plain()


async def test_commands_and_subcommands_are_case_insensitive(chat):
    reply = await chat.say("/CrowdMentor QUESTIONS")

    assert "Open questions" in reply.plain()


# ---- permissions --------------------------------------------------------------------------


async def test_a_member_running_an_admin_command_is_refused_and_nothing_changes(chat):
    reply = await chat.say("/crowdmentor settings anonymous off", as_="ada")

    assert reply.plain() == "Only admins can do that here."
    assert await _all(chat, CommunitySettings) == []
    # Anonymous questions are still allowed.
    asked = await chat.say("/ask --anonymous How do I ask for a raise? I have data.", as_="ada")
    assert "anonymously" in asked.plain()


async def test_an_admin_may_run_the_same_command(chat):
    reply = await chat.say("/crowdmentor settings anonymous off", as_="admin")

    assert "Anonymous questions are now" in reply.plain()
    [row] = await _all(chat, CommunitySettings)
    assert row.allow_anonymous is False


async def test_a_moderator_command_refuses_members_but_not_moderators(chat):
    async def moderate(ctx):
        return Reply.say("moderated")

    _add_command(chat, "moderate", moderate, access=Access.MODERATOR)

    refused = await chat.say("/moderate", as_="ada")
    await chat.say("/crowdmentor settings moderator add @ada", as_="admin")
    allowed = await chat.say("/moderate", as_="ada")

    assert refused.plain() == "Only moderators and admins can do that here."
    assert allowed.plain() == "moderated"


async def test_bad_arguments_are_answered_with_usage_and_nothing_runs(chat):
    calls = []

    async def count(ctx, n: int):
        calls.append(n)
        return Reply.say("ok")

    _add_command(chat, "count", count, params=(Param("n", ParamKind.INT, "N", required=True),))

    reply = await chat.say("/count lots")

    assert calls == []
    assert "“lots” isn't a number. Usage: /count <n>" in reply.plain()


# ---- failures -----------------------------------------------------------------------------


async def _write_then(ctx, error: BaseException):
    await ctx.send("half-done", DeliveryKind.POST, Reply.say("should never be sent"))
    ctx.session.add(
        Member(
            community_id=ctx.community_id,
            external_id="ghost",
            created_at=ctx.now(),
            last_seen_at=ctx.now(),
        )
    )
    await ctx.session.flush()
    raise error


async def test_a_handler_exception_apologises_with_the_invocation_id_and_rolls_back(chat, caplog):
    async def boom(ctx):
        await _write_then(ctx, RuntimeError("kaboom"))

    _add_command(chat, "boom", boom)
    invocation = _invocation(chat, "/boom", invocation_id="inv-boom-1")

    with caplog.at_level(logging.ERROR):
        reply = await chat.app.dispatcher.dispatch(invocation)
    await chat.deliver()

    assert "Sorry, something went wrong on my side and nothing was changed" in reply.plain()
    assert Code("inv-boom-1") in reply.text.parts
    assert "kaboom" not in reply.plain()  # no internals shown to members
    assert await _all(chat, OutboxMessage) == []
    # Everything in the transaction is gone, even the member row the dispatcher made for ada.
    assert [m.external_id for m in await _all(chat, Member)] == []
    assert chat.platform.log == []
    [record] = [r for r in caplog.records if r.message == "handler failed"]
    assert record.exc_info
    assert "kaboom" in str(record.exc_info[1])


async def test_an_unavailable_database_asks_to_try_again_and_echoes_the_text():
    database = Database("postgresql://x:y@127.0.0.1:1/nope")
    services = Services(
        database=database,
        registry=build_registry(),
        settings=Settings(database_url=database.url),
        clock=Clock(),
        runtime=QuietRuntime(),
    )
    dispatcher = Dispatcher(services)
    community = Community("memory", "T1")
    question = "How do I prepare for a system design interview? #interviews"
    try:
        reply = await dispatcher.dispatch(
            Invocation("ask", question, ADA, community, Place("general"))
        )
        empty = await dispatcher.dispatch(Invocation("ask", "", ADA, community, Place("general")))
        form = await dispatcher.submit(
            FormSubmission("ask", {"question": "Typed in a form"}, ADA, community, Place("g"))
        )
    finally:
        await database.dispose()

    assert "try again in a moment" in reply.plain()
    assert "nothing was saved" in reply.plain()
    assert Code(question) in reply.text.parts
    assert "try again in a moment" in empty.plain()
    assert Code("") not in empty.text.parts
    assert Code("Typed in a form") in form.text.parts


async def test_an_operational_error_mid_handler_counts_as_unavailable_and_rolls_back(chat):
    async def flaky(ctx, text: str | None = None):
        await _write_then(ctx, OperationalError("SELECT 1", {}, Exception("connection reset")))

    _add_command(chat, "flaky", flaky, params=(Param("text", ParamKind.TEXT, "Text"),))

    reply = await chat.say("/flaky please keep my words")

    assert "try again in a moment" in reply.plain()
    assert Code("please keep my words") in reply.text.parts
    assert await _all(chat, OutboxMessage) == []
    assert chat.platform.log == []


# ---- logs ---------------------------------------------------------------------------------


@pytest.fixture
def stamped(caplog):
    """Capture INFO and up, each record stamped with the invocation id as in production."""
    stamp = InvocationIdFilter()
    caplog.handler.addFilter(stamp)
    caplog.set_level(logging.INFO)
    yield caplog
    caplog.handler.removeFilter(stamp)


async def test_every_log_line_of_a_dispatch_carries_its_invocation_id(chat, stamped):
    invocation = _invocation(
        chat, "/ask How do I pick a mentor for my first year? #career", invocation_id="inv-ask-7"
    )

    stamped.clear()
    reply = await chat.app.dispatcher.dispatch(invocation)
    records = list(stamped.records)

    assert "question #1" in reply.plain()
    assert any("command /ask by ada" in r.getMessage() for r in records)
    assert {r.invocation_id for r in records} == {"inv-ask-7"}


async def test_a_failing_dispatch_logs_its_error_with_the_invocation_id(chat, stamped):
    async def boom(ctx):
        raise RuntimeError("kaboom")

    _add_command(chat, "boom", boom)

    stamped.clear()
    await chat.app.dispatcher.dispatch(_invocation(chat, "/boom", invocation_id="inv-err-2"))

    errors = [r for r in stamped.records if r.levelno >= logging.ERROR]
    assert errors
    assert {r.invocation_id for r in stamped.records} == {"inv-err-2"}


async def test_concurrent_dispatches_keep_their_own_invocation_ids(chat, stamped):
    async def slow(ctx):
        logging.getLogger("tests.slow").info("working for %s", ctx.actor.user_id)
        await asyncio.sleep(0.01)
        logging.getLogger("tests.slow").info("done for %s", ctx.actor.user_id)
        return Reply.say("ok")

    _add_command(chat, "slow", slow)
    people = ["ada", "bob", "cy", "dee"]

    stamped.clear()
    await asyncio.gather(
        *(
            chat.app.dispatcher.dispatch(_invocation(chat, "/slow", as_=p, invocation_id=f"id-{p}"))
            for p in people
        )
    )

    mine = [r for r in stamped.records if r.name == "tests.slow"]
    assert len(mine) == 2 * len(people)
    for record in mine:
        assert record.invocation_id == f"id-{record.args[0]}"
    assert {r.invocation_id for r in stamped.records} == {f"id-{p}" for p in people}


async def test_log_lines_outside_any_dispatch_are_marked_with_a_dash(stamped):
    stamped.clear()
    logging.getLogger("tests.outside").info("between requests")

    [record] = stamped.records
    assert record.invocation_id == "-"
