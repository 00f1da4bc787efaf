"""`/crowdmentor questions`: open questions, your own, or a search."""

from __future__ import annotations

from sqlmodel import col, select

from bot.commands._people import mention
from bot.commands._question_post import member, state_line
from bot.context import Context
from bot.errors import BadArgumentsError
from bot.registry import Param, ParamKind, command
from bot.replies import Bold, Code, Italic, Reply, Rich, Section, rich
from bot.search import search_questions
from bot.store.models import Question, QuestionStatus

LISTED = 10
_PREVIEW_CHARS = 120


def _preview(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return first if len(first) <= _PREVIEW_CHARS else first[: _PREVIEW_CHARS - 1] + "…"


async def _line(ctx: Context, question: Question) -> Rich:
    helper = await member(ctx, question.helped_by_id)
    who: Rich = rich()
    if question.anonymous and ctx.is_moderator():
        asker = await member(ctx, question.asker_id)
        who = rich(
            " ", Italic("asked anonymously by "), mention(asker), Italic(" (moderators only)")
        )
    return rich(
        Bold(f"#{question.number}"), " ", _preview(question.text), "\n   ",
        state_line(question, helper), who, "\n",
    )  # fmt: skip


@command(
    "crowdmentor",
    "questions",
    summary="List open questions, your own, or search earlier ones",
    params=(
        Param(
            "filter", ParamKind.CHOICE, "Which questions", choices=("open", "mine", "all", "search")
        ),
        Param("text", ParamKind.TEXT, "What to search for (with search)"),
    ),
    examples=(
        "/crowdmentor questions",
        "/crowdmentor questions mine",
        "/crowdmentor questions search interviews",
    ),
)
async def questions(ctx: Context, filter: str = "open", text: str | None = None) -> Reply:
    """List questions in this community."""
    if filter == "search" or (text and filter == "open"):
        if not text:
            raise BadArgumentsError(
                rich(
                    "What should I look for? e.g. ",
                    Code("/crowdmentor questions search interviews"),
                )
            )
        found = await search_questions(ctx.session, ctx.community_id, text, limit=LISTED)
        rows = [await ctx.session.get(Question, s.question_id) for s in found]
        title = rich("Questions matching “", text, "”")
    else:
        posted = col(Question.status).in_(
            [QuestionStatus.OPEN, QuestionStatus.RESOLVED, QuestionStatus.CLOSED]
        )
        query = select(Question).where(Question.community_id == ctx.community_id, posted)
        if filter == "open":
            query = query.where(Question.status == QuestionStatus.OPEN)
            title = rich("Open questions")
        elif filter == "mine":
            query = query.where(Question.asker_id == (ctx.member.id if ctx.member else None))
            title = rich("Your questions")
        else:
            title = rich("All questions")
        query = query.order_by(col(Question.number).desc()).limit(LISTED)
        rows = list((await ctx.session.exec(query)).all())
    listed = [q for q in rows if q is not None]
    if not listed:
        return Reply.say(title, ": none yet. Ask one with ", Code("/ask"), ".")
    lines = [await _line(ctx, q) for q in listed]
    return Reply(text=rich(Bold(title.plain())), sections=(Section(body=rich(*lines)),))
