"""A dump of every row that belongs to one community, to prove a community was left unchanged."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.reliability._database_scan import community_id, live_columns

# Rows without a community_id belong to a community through the row they point at.
_PARENTS = {"question_id": "questions", "group_id": "pair_groups", "member_id": "members"}


async def snapshot(database: Any, platform: str, external_id: str) -> dict[str, list[str]]:
    """Return the community's rows in every table, each row as text, sorted."""
    owner = await community_id(database, platform, external_id)
    columns = await live_columns(database)
    dump: dict[str, list[str]] = {}
    async with database.engine.connect() as connection:

        async def ids_of(table: str) -> set[Any]:
            found = await connection.execute(
                text(f"SELECT id FROM {table} WHERE community_id = :c"), {"c": owner}
            )
            return {row[0] for row in found}

        owned = {table: await ids_of(table) for table in set(_PARENTS.values())}
        for table, names in sorted(columns.items()):
            rows = (await connection.execute(text(f"SELECT * FROM {table}"))).mappings().all()
            if table == "communities":
                mine = [r for r in rows if r["id"] == owner]
            elif "community_id" in names:
                mine = [r for r in rows if r["community_id"] == owner]
            else:
                link = next((c for c in _PARENTS if c in names), None)
                if link is None:
                    continue  # not community data (installations, OAuth states)
                mine = [r for r in rows if r[link] in owned[_PARENTS[link]]]
            dump[table] = sorted(
                " | ".join(f"{k}={v}" for k, v in sorted(row.items())) for row in mine
            )
    return dump


def differences(before: dict[str, list[str]], after: dict[str, list[str]]) -> dict[str, Any]:
    """Return, per table, the rows that appeared or disappeared."""
    changed: dict[str, Any] = {}
    for table in sorted(set(before) | set(after)):
        gone = sorted(set(before.get(table, [])) - set(after.get(table, [])))
        new = sorted(set(after.get(table, [])) - set(before.get(table, [])))
        if gone or new:
            changed[table] = {"gone": gone, "new": new}
    return changed
