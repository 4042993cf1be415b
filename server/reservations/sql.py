"""Hand-written SQL for the few hottest statements (booking, admitting), on SQLite and PostgreSQL.

The ORM builds each query anew through pypika, about a millisecond of CPU per statement here;
the booking and gate paths run a handful per request, so their fixed statements are written
once, with PostgreSQL's `$n` placeholders (turned into SQLite's `?` when needed), and their rows
made into models the way the ORM itself does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

M = TypeVar("M", bound=Model)
_PLACEHOLDER = re.compile(r"\$\d+")


@cache
def _for_dialect(sql: str, dialect: str) -> str:
    # Each statement here uses its parameters once and in order, so `?` keeps their meaning.
    return _PLACEHOLDER.sub("?", sql) if dialect == "sqlite" else sql


async def fetch_rows(
    sql: str, values: Sequence[Any], connection: BaseDBAsyncClient | None = None
) -> list[dict[str, Any]]:
    """The rows of one statement (also an UPDATE/INSERT ... RETURNING) as dicts.

    `connection` is the transaction's, when inside one; else the default connection.
    """
    connection = connection or connections.get("default")
    query = _for_dialect(sql, connection.capabilities.dialect)
    return await connection.execute_query_dict(query, list(values))


async def execute(
    sql: str, values: Sequence[Any], connection: BaseDBAsyncClient | None = None
) -> int:
    """Run one UPDATE/INSERT/DELETE; the number of rows it changed."""
    connection = connection or connections.get("default")
    query = _for_dialect(sql, connection.capabilities.dialect)
    changed, _ = await connection.execute_query(query, list(values))
    return changed


@cache
def columns_as(model: type[Model], table_alias: str, prefix: str) -> str:
    """`alias.column AS "prefixcolumn", ...` for every column of `model` (for a joined read)."""
    return ", ".join(
        f'{table_alias}.{column} AS "{prefix}{column}"'
        for column in model._meta.fields_db_projection.values()
    )


def model_from_row(model: type[M], row: dict[str, Any], prefix: str) -> M:
    """The model instance of the `prefix`ed columns of a joined row, converted as the ORM does."""
    # `_init_from_db` is what the ORM's own reads call with a row's columns.
    return model._init_from_db(
        **{column: row[f"{prefix}{column}"] for column in model._meta.fields_db_projection.values()}
    )
