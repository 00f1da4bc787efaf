"""Find earlier questions similar to a new one (SQLite FTS5, PostgreSQL full-text search)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

# Words that say nothing about what a question is about.
STOPWORDS = frozenset(
    """a about after again all also am an and any anyone are as at be been being but by can
    could did do does doing done for from get getting got had has have having he her here him
    his how i if in into is it its just know like me might more most my need no not now of on
    one or other our out please really should so some someone something than that the their
    them then there these they thing things this those to too up us use using very want was
    way we were what when where which who why will with would you your yours""".split()
)
MAX_TERMS = 8
CANDIDATES = 20
# Share of the new question's terms an earlier one must contain to count as similar.
MIN_OVERLAP = 0.5
_WORD = re.compile(r"[^\W_]{3,}", re.UNICODE)
_SEARCHED_STATUSES = ("open", "resolved", "closed")


@dataclass(frozen=True, slots=True)
class Similar:
    """An earlier question that may already answer a new one."""

    question_id: int
    number: int
    text: str
    status: str
    reply_count: int
    score: float


def terms(question: str) -> list[str]:
    """Return the distinct meaningful words of a question, in order, at most `MAX_TERMS`."""
    seen: list[str] = []
    for word in _WORD.findall(question.lower()):
        if word not in STOPWORDS and word not in seen:
            seen.append(word)
    return seen[:MAX_TERMS]


def _stem(word: str) -> str:
    # A light stem is enough to compare candidates the index already matched by real stems.
    return word[:5]


def _overlap(query_terms: list[str], candidate: str) -> float:
    wanted = {_stem(t) for t in query_terms}
    have = {_stem(w) for w in _WORD.findall(candidate.lower())}
    return len(wanted & have) / len(wanted) if wanted else 0.0


async def similar_questions(
    session: AsyncSession,
    community_id: int,
    question: str,
    *,
    limit: int,
    exclude_id: int | None = None,
) -> list[Similar]:
    """Return up to `limit` earlier questions in this community that share most of its terms."""
    words = terms(question)
    if not words or limit <= 0:
        return []
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    if dialect == "sqlite":
        sql = text(
            """
            SELECT q.id, q.number, q.text, q.status, q.reply_count, bm25(questions_fts) AS score
            FROM questions_fts JOIN questions q ON q.id = questions_fts.rowid
            WHERE questions_fts MATCH :match AND q.community_id = :community
              AND q.status IN ('open', 'resolved', 'closed')
            ORDER BY score LIMIT :candidates
            """
        )
        match = " OR ".join(f'"{word}"' for word in words)
    else:
        sql = text(
            """
            SELECT q.id, q.number, q.text, q.status, q.reply_count,
                   -ts_rank(q.search, to_tsquery('english', :match)) AS score
            FROM questions q
            WHERE q.search @@ to_tsquery('english', :match) AND q.community_id = :community
              AND q.status IN ('open', 'resolved', 'closed')
            ORDER BY score LIMIT :candidates
            """
        )
        match = " | ".join(words)
    rows = await session.exec(  # type: ignore[call-overload]
        sql, params={"match": match, "community": community_id, "candidates": CANDIDATES}
    )
    found: list[Similar] = []
    for row in rows.all():
        if row.id == exclude_id or _overlap(words, row.text) < MIN_OVERLAP:
            continue
        found.append(Similar(row.id, row.number, row.text, row.status, row.reply_count, row.score))
        if len(found) == limit:
            break
    return found


async def search_questions(
    session: AsyncSession, community_id: int, query: str, *, limit: int
) -> list[Similar]:
    """Return questions matching a search typed by a member (any of its words, best first)."""
    found = await similar_questions(session, community_id, query, limit=limit * 3)
    return found[:limit]
