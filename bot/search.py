"""Find earlier questions similar to a new one (SQLite FTS5, PostgreSQL full-text search)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

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
# A word in more questions than this is "common": ranking all its questions would take too long.
FREQUENT_DOCS = 2_000
# How many index matches are scored by overlap: the best ranked, or the most recent.
RANKED_CANDIDATES = 50
RECENT_CANDIDATES = 400
# Share of the new question's terms an earlier one must contain to count as similar.
MIN_OVERLAP = 0.5
_WORD = re.compile(r"[^\W_]{3,}", re.UNICODE)


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


async def _frequencies(session: AsyncSession, dialect: str, words: list[str]) -> dict[str, int]:
    """Return each word's document count, capped at FREQUENT_DOCS (cheap: it stops counting)."""
    if dialect == "sqlite":
        probe = (
            "SELECT {i} AS word, count(*) AS docs FROM (SELECT rowid FROM questions_fts "
            "WHERE questions_fts MATCH :w{i} LIMIT :cap) AS hits{i}"
        )
    else:
        probe = (
            "SELECT {i} AS word, count(*) AS docs FROM (SELECT 1 FROM questions "
            "WHERE search @@ to_tsquery('english', :w{i}) LIMIT :cap) AS hits{i}"
        )
    # One round trip for every word: the counts are tiny, the statements were the cost.
    sql = text(" UNION ALL ".join(probe.format(i=i) for i in range(len(words))))
    params: dict[str, object] = {"cap": FREQUENT_DOCS + 1}
    for index, word in enumerate(words):
        params[f"w{index}"] = f'"{word}"' if dialect == "sqlite" else word
    rows = await session.exec(sql, params=params)  # type: ignore[call-overload]
    counts = {words[row.word]: int(row.docs) for row in rows.all()}
    return {word: counts.get(word, 0) for word in words}


def _candidate_sql(dialect: str, *, ranked: bool) -> Any:
    if dialect == "sqlite":
        order = "bm25(questions_fts)" if ranked else "questions_fts.rowid DESC"
        return text(
            f"""
            SELECT q.id, q.number, q.text, q.status, q.reply_count
            FROM questions_fts JOIN questions q ON q.id = questions_fts.rowid
            WHERE questions_fts MATCH :match AND q.community_id = :community
              AND q.status IN ('open', 'resolved', 'closed')
            ORDER BY {order} LIMIT :candidates
            """  # noqa: S608 - `order` is one of two constants above
        )
    order = "ts_rank(q.search, to_tsquery('english', :match)) DESC" if ranked else "q.id DESC"
    return text(
        f"""
        SELECT q.id, q.number, q.text, q.status, q.reply_count
        FROM questions q
        WHERE q.search @@ to_tsquery('english', :match) AND q.community_id = :community
          AND q.status IN ('open', 'resolved', 'closed')
        ORDER BY {order} LIMIT :candidates
        """  # noqa: S608 - `order` is one of two constants above
    )


async def similar_questions(
    session: AsyncSession,
    community_id: int,
    question: str,
    *,
    limit: int,
    exclude_id: int | None = None,
) -> list[Similar]:
    """Return up to `limit` earlier questions in this community that share most of its terms.

    A question that shares at least half of the new one's terms must contain at least one of
    any `len(terms) // 2 + 1` of them (pigeonhole), so only the rarest of those are searched:
    common words would make the index rank most of the corpus. When even those are common, the
    most recent matches stand in for a full ranking, which keeps every search bounded.
    """
    words = terms(question)
    if not words or limit <= 0:
        return []
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    frequency = await _frequencies(session, dialect, words)
    chosen = sorted(words, key=lambda w: (frequency[w], words.index(w)))[: len(words) // 2 + 1]
    chosen = [w for w in chosen if frequency[w]]
    if not chosen:
        return []
    ranked = all(frequency[w] <= FREQUENT_DOCS for w in chosen)
    if dialect == "sqlite":
        match = " OR ".join(f'"{word}"' for word in chosen)
    else:
        match = " | ".join(chosen)
    rows = await session.exec(  # type: ignore[call-overload]
        _candidate_sql(dialect, ranked=ranked),
        params={
            "match": match,
            "community": community_id,
            "candidates": RANKED_CANDIDATES if ranked else RECENT_CANDIDATES,
        },
    )
    scored: list[tuple[float, int, Similar]] = []
    for position, row in enumerate(rows.all()):
        if row.id == exclude_id:
            continue
        overlap = _overlap(words, row.text)
        if overlap < MIN_OVERLAP:
            continue
        similar = Similar(row.id, row.number, row.text, row.status, row.reply_count, overlap)
        scored.append((-overlap, position, similar))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [similar for _, _, similar in scored[:limit]]


async def search_questions(
    session: AsyncSession, community_id: int, query: str, *, limit: int
) -> list[Similar]:
    """Return questions matching a search typed by a member (any of its words, best first)."""
    found = await similar_questions(session, community_id, query, limit=limit * 3)
    return found[:limit]
