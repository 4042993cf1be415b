"""Hand-written SQL for the few hottest statements (booking, admitting), on SQLite and PostgreSQL.

The ORM builds each query anew through pypika, about a millisecond of CPU per statement here;
the booking and gate paths run a handful per request, so their fixed statements are written
once, with PostgreSQL's `$n` placeholders (turned into SQLite's `?n` when needed), or with named
`:name` placeholders where a statement is put together from parts (the booking's), and their rows
made into models the way the ORM itself does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

M = TypeVar("M", bound=Model)
_PLACEHOLDER = re.compile(r"\$(\d+)")
# `:name`, but not the second colon of PostgreSQL's `::type` nor a time such as '08:30'.
_NAMED = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


@cache
def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """`sql` with its `:name` placeholders as $1, $2 ... in order of first use; the names."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return _NAMED.sub(number, sql), tuple(names)


@cache
def _for_dialect(sql: str, dialect: str) -> str:
    # SQLite's `?n` is the nth value, as `$n` is PostgreSQL's (also when used twice).
    return _PLACEHOLDER.sub(r"?\1", sql) if dialect == "sqlite" else sql


def _query(
    sql: str, values: Sequence[Any] | Mapping[str, Any], connection: BaseDBAsyncClient
) -> tuple[str, list[Any]]:
    if isinstance(values, Mapping):
        sql, names = _numbered(sql)
        values = [values[name] for name in names]
    return _for_dialect(sql, connection.capabilities.dialect), list(values)


async def fetch_rows(
    sql: str,
    values: Sequence[Any] | Mapping[str, Any],
    connection: BaseDBAsyncClient | None = None,
) -> list[dict[str, Any]]:
    """The rows of one statement (also an UPDATE/INSERT ... RETURNING) as dicts.

    `values` are positional for `$n` placeholders, or by name for `:name` ones. `connection`
    is the transaction's, when inside one; else the default connection.
    """
    connection = connection or connections.get("default")
    return await connection.execute_query_dict(*_query(sql, values, connection))


async def execute(
    sql: str,
    values: Sequence[Any] | Mapping[str, Any],
    connection: BaseDBAsyncClient | None = None,
) -> int:
    """Run one UPDATE/INSERT/DELETE; the number of rows it changed."""
    connection = connection or connections.get("default")
    changed, _ = await connection.execute_query(*_query(sql, values, connection))
    return changed


def dialect(connection: BaseDBAsyncClient | None = None) -> str:
    """ "sqlite" or "postgres": which SQL text of a statement written for both to use."""
    return (connection or connections.get("default")).capabilities.dialect


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
