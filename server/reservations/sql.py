"""Hand-written SQL for the few hottest statements (booking, admitting), on SQLite and PostgreSQL.

The ORM builds each query anew through pypika, about a millisecond of CPU per statement here;
the booking and gate paths run a handful per request, so their fixed statements are written
once, with PostgreSQL's `$n` placeholders (turned into SQLite's `?n` when needed), or with named
`:name` placeholders where a statement is put together from parts (the booking's), and their rows
made into models the way the ORM itself does.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

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


# --- one statement for many values in one call (PostgreSQL) ------------------------------------

# The function run_each calls: the statement once for each element of a JSON list of values
# (its placeholders as variables of the types PostgreSQL gives them), each run in a sub-
# transaction (BEGIN ... EXCEPTION), so that a run that raises or fails undoes its own writes
# only; the outcomes as a JSON list.
_EACH_DEFINITION = """(runs jsonb) RETURNS jsonb AS $each$
DECLARE
    each_values jsonb;
    each_row record;
    each_rows jsonb;
    each_hint text;
    each_outcomes jsonb := '[]';
{declared}
BEGIN
    FOR each_values IN SELECT value FROM jsonb_array_elements(runs) LOOP
{assigned}
        each_rows := '[]';
        BEGIN
            FOR each_row IN {statement} LOOP
                each_rows := each_rows || jsonb_build_array(to_jsonb(each_row));
            END LOOP;
            each_outcomes := each_outcomes
                || jsonb_build_array(jsonb_build_object('rows', each_rows));
        EXCEPTION
            WHEN raise_exception THEN
                GET STACKED DIAGNOSTICS each_hint = PG_EXCEPTION_HINT;
                each_outcomes := each_outcomes
                    || jsonb_build_array(jsonb_build_object('raised', each_hint));
            WHEN unique_violation THEN
                each_outcomes := each_outcomes
                    || jsonb_build_array(jsonb_build_object('failed', 'unique'));
            WHEN deadlock_detected OR serialization_failure THEN
                each_outcomes := each_outcomes
                    || jsonb_build_array(jsonb_build_object('failed', 'conflict'));
        END;
    END LOOP;
    RETURN each_outcomes;
END
$each$ LANGUAGE plpgsql VOLATILE"""
_each_functions: dict[str, str] = {}  # statement -> the name of its function in the database


async def _each_function(statement: str) -> str:
    """The name of the PostgreSQL function that runs `statement` for each of a JSON list of
    values, made in the database if it is not there yet."""
    name = _each_functions.get(statement)
    if name is not None:
        return name
    numbered, names = _numbered(statement)
    async with connections.get("default").acquire_connection() as connection:
        # The types PostgreSQL gives the statement's placeholders: the function's variables'.
        prepared = await connection.prepare(numbered)
        types = [f"{kind.schema}.{kind.name}" for kind in prepared.get_parameters()]
    definition = _EACH_DEFINITION.format(
        declared="\n".join(f"    each_{n} {kind};" for n, kind in zip(names, types, strict=True)),
        assigned="\n".join(
            f"        each_{n} := CAST(each_values ->> '{n}' AS {kind});"
            for n, kind in zip(names, types, strict=True)
        ),
        statement=_NAMED.sub(r"each_\1", statement),
    )
    # Named by its text: a changed statement gets a function of its own, never an old one.
    name = "run_each_" + hashlib.sha256(definition.encode()).hexdigest()[:20]
    async with in_transaction() as transaction:
        # Both server processes may come here at once: one makes it, the other then finds it.
        await transaction.execute_query("SELECT pg_advisory_xact_lock(hashtext($1))", [name])
        found = await transaction.execute_query_dict(
            "SELECT 1 FROM pg_proc WHERE proname = $1", [name]
        )
        if not found:
            await transaction.execute_script(f"CREATE FUNCTION {name}{definition}")
    _each_functions[statement] = name
    return name


def _json_value(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"no JSON for {type(value).__name__}")


async def run_each(statement: str, runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Run `statement` (`:name` placeholders) once for each of `runs`' values, in one call and
    one transaction, each run in a sub-transaction of its own; what each did, in order:
    `{"rows": [...]}` (its rows as dicts), `{"raised": hint}` (it raised, the HINT given),
    or `{"failed": "unique"}` / `{"failed": "conflict"}` (a unique key, or a deadlock or
    serialization failure). A failed or raising run's writes are undone, the others' kept.
    """
    name = await _each_function(statement)
    _, names = _numbered(statement)
    values = json.dumps([{n: run[n] for n in names} for run in runs], default=_json_value)
    try:
        [row] = await fetch_rows(f"SELECT {name}(CAST($1 AS JSONB)) AS outcomes", [values])
    except Exception:
        _each_functions.pop(statement, None)  # the database may be a new one: made again next time
        raise
    outcomes = row["outcomes"]
    return json.loads(outcomes) if isinstance(outcomes, str) else outcomes
