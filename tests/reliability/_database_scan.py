"""Read a whole database back: every table's columns, every row as text, to search for traces."""

from sqlalchemy import inspect, text


async def live_columns(database) -> dict[str, set[str]]:
    """Return every table of the live schema with its column names."""

    def read(connection):
        inspector = inspect(connection)
        return {
            table: {column["name"] for column in inspector.get_columns(table)}
            for table in inspector.get_table_names()
        }

    async with database.engine.connect() as connection:
        return await connection.run_sync(read)


async def everything(database) -> dict[str, list[str]]:
    """Return every row of every table, each as one string of all its values."""
    dump: dict[str, list[str]] = {}
    async with database.engine.connect() as connection:
        for table in await live_columns(database):
            rows = await connection.execute(text(f"SELECT * FROM {table}"))
            dump[table] = [" | ".join(str(value) for value in row) for row in rows]
    return dump


def mentions_of(dump: dict[str, list[str]], needle: str) -> list[str]:
    """Return each row (named by its table) that contains `needle`."""
    return [f"{table}: {row}" for table, rows in dump.items() for row in rows if needle in row]


async def rows_of_community(database, community_id: int) -> dict[str, int]:
    """Count a community's rows in every table that has a `community_id` (and its own row)."""
    counts: dict[str, int] = {}
    async with database.engine.connect() as connection:
        for table, columns in (await live_columns(database)).items():
            column = "id" if table == "communities" else "community_id"
            if column in columns:
                found = await connection.execute(
                    text(f"SELECT count(*) FROM {table} WHERE {column} = :c"), {"c": community_id}
                )
                counts[table] = found.scalar_one()
    return counts


async def community_id(database, platform: str, external_id: str) -> int:
    """Return a community's row id."""
    async with database.engine.connect() as connection:
        found = await connection.execute(
            text("SELECT id FROM communities WHERE platform = :p AND external_id = :e"),
            {"p": platform, "e": external_id},
        )
        return found.scalar_one()
