"""HTTP plumbing shared by every blueprint: request parsing, the error shape, the answer helpers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import asyncpg
from pydantic import AfterValidator, BaseModel, Field, ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sanic import Request, Sanic
from sanic.exceptions import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RequestCancelled,
    SanicException,
)
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi
from tortoise.exceptions import DBConnectionError, OperationalError

import i18n
from server import errors

log = logging.getLogger("etour.http")
Model = TypeVar("Model", bound=BaseModel)
Handler = Callable[..., Awaitable[HTTPResponse]]


def language_of(request: Request) -> str:
    """The language to answer in, from `lang` or Accept-Language (zh-CN by default)."""
    cached = getattr(request.ctx, "language", None)
    if cached:
        return cached
    language = i18n.negotiate(request.args.get("lang"), request.headers.get("accept-language"))
    request.ctx.language = language
    return language


def _field_path(location: tuple[Any, ...]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def _invalid_input(error: ValidationError) -> errors.InvalidInput:
    first = error.errors()[0]
    return errors.InvalidInput(field=_field_path(first.get("loc", ())), detail=first["msg"])


def parse_body(request: Request, model: type[Model]) -> Model:
    """Validate the JSON body against `model`; a clear 400/422 naming the field otherwise."""
    if not request.body:
        raise errors.InvalidJSON(detail="empty body")
    try:
        payload = request.json
    except BadRequest:
        raise errors.InvalidJSON(detail="not valid JSON") from None
    if not isinstance(payload, dict):
        raise errors.InvalidJSON(detail="expected a JSON object")
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise _invalid_input(error) from None


def parse_query(request: Request, model: type[Model]) -> Model:
    """Validate the query string against `model` (the last value of a repeated key wins)."""
    values = {key: request.args.getlist(key)[-1] for key in request.args}
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise _invalid_input(error) from None


def body(model: type[BaseModel]) -> Callable[[Handler], Handler]:
    """Document a JSON request body in the OpenAPI document (parse it with parse_body)."""
    return openapi.body({"application/json": model.model_json_schema()}, required=True)


def query(model: type[BaseModel]) -> Callable[[Handler], Handler]:
    """Document a query model's fields as OpenAPI query parameters."""
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    decorators = [
        openapi.parameter(
            name,
            {key: value for key, value in spec.items() if key in ("type", "format", "enum")} or str,
            "query",
            required=name in required,
            description=spec.get("description", ""),
        )
        for name, spec in schema.get("properties", {}).items()
    ]

    def apply(handler: Handler) -> Handler:
        for decorate in decorators:
            handler = decorate(handler)
        return handler

    return apply


# Ids are 32-bit integer columns (PostgreSQL `integer`, SQLite checks 64 bits): a larger number in
# a path names nothing, and the drivers would fail on it (OverflowError, DataError) with a 500.
LARGEST_ID = 2**31 - 1

# A row id in a request body or query: one no table can hold is refused while parsing, as a 422
# naming the field, so no service has to check the bound again.
RowId = Annotated[int, Field(ge=1, le=LARGEST_ID)]


def _number_fits_a_table(typed_id: str) -> str:
    if int(typed_id.partition(":")[2]) > LARGEST_ID:
        raise ValueError(f"no table holds an id over {LARGEST_ID}")
    return typed_id


def typed_id(*kinds: str) -> Any:
    """A request field's type for an id with its kind, e.g. "venue:12": one of `kinds`, a colon,
    and a number no larger than a table can hold (else a 422 naming the field)."""
    pattern = rf"^({'|'.join(kinds)}):[1-9][0-9]{{0,9}}$"
    return Annotated[str, Field(pattern=pattern), AfterValidator(_number_fits_a_table)]


def install_input_guards(app: Sanic) -> None:
    """Refuse integer path parameters no table can hold as a plain 404 before any handler runs."""

    @app.on_request(priority=90)
    async def refuse_impossible_ids(request: Request) -> None:
        for name, value in (request.match_info or {}).items():
            if isinstance(value, int) and not -LARGEST_ID <= value <= LARGEST_ID:
                raise errors.NotFound(detail=f"{name} out of range")


def hoist_schema_definitions(document: dict[str, Any]) -> dict[str, Any]:
    """sanic-ext's document made valid OpenAPI 3.1 for the pydantic schemas in it.

    `model_json_schema()` writes JSON Schema 2020-12 (OpenAPI 3.1's dialect: numeric
    exclusiveMinimum, `type: null`), and puts the models a schema uses under its own `$defs`,
    pointed at with `#/$defs/Name`: relative to the document's root, so unresolvable. Those
    definitions move to `components.schemas`; two different models of one name (each domain's
    `HoursOut`) get the second a numbered name. The document is copied, never changed in
    place: the route decorators keep these schema dicts for the next call.
    """
    shared: dict[str, Any] = {}

    def hoist(node: Any, names: dict[str, str]) -> Any:
        if isinstance(node, list):
            return [hoist(item, names) for item in node]
        if not isinstance(node, dict):
            return node
        definitions = node.get("$defs", {})
        if definitions:
            names = {**names, **_component_names(definitions, shared)}
            for name, definition in definitions.items():
                shared.setdefault(names[name], hoist(definition, names))
        copy = {key: hoist(value, names) for key, value in node.items() if key != "$defs"}
        ref = copy.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            copy["$ref"] = f"#/components/schemas/{names.get(name, name)}"
        return copy

    hoisted = hoist(document, {})
    hoisted["openapi"] = "3.1.0"
    components = hoisted.setdefault("components", {})
    components["schemas"] = {**components.get("schemas", {}), **shared}
    return hoisted


def _component_names(definitions: dict[str, Any], shared: dict[str, Any]) -> dict[str, str]:
    """A component name per local definition: its own, or a numbered one when taken by another."""
    names = {}
    for name, definition in definitions.items():
        candidate, number = name, 1
        # Compared with the refs as they will read once hoisted under the same names.
        rewritten = _refs_to_components(definition)
        while candidate in shared and shared[candidate] != rewritten:
            number += 1
            candidate = f"{name}{number}"
        names[name] = candidate
    return names


def _refs_to_components(node: Any) -> Any:
    if isinstance(node, list):
        return [_refs_to_components(item) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _refs_to_components(value) for key, value in node.items()}
    if isinstance(copy.get("$ref"), str):
        copy["$ref"] = copy["$ref"].replace("#/$defs/", "#/components/schemas/", 1)
    return copy


def error_body(error: errors.AppError, language: str) -> dict[str, Any]:
    """The one JSON error shape, {"error": {"code", "message", ...}}, in `language`."""
    message = i18n.gettext(f"error.{error.code}", language, **error.params)
    payload: dict[str, Any] = {"code": error.code, "message": message}
    payload.update({key: value for key, value in error.extra().items() if value is not None})
    return {"error": payload}


def error_response(request: Request, error: errors.AppError) -> HTTPResponse:
    """The error as an answer, with the message in the caller's language."""
    shaped = error_body(error, language_of(request))
    request_id = getattr(request.ctx, "request_id", None)
    if request_id:
        shaped["error"]["request_id"] = request_id
    return json(shaped, status=error.status, headers=error.headers() or None)


_SANIC_TO_APP_ERROR: list[tuple[type[SanicException], type[errors.AppError]]] = [
    (NotFound, errors.NotFound),
    (MethodNotAllowed, errors.MethodNotAllowed),
    (PayloadTooLarge, errors.PayloadTooLarge),
    (BadRequest, errors.InvalidJSON),
]


def _as_app_error(exception: Exception) -> errors.AppError:
    if isinstance(exception, errors.AppError):
        return exception
    for sanic_type, app_type in _SANIC_TO_APP_ERROR:
        if isinstance(exception, sanic_type):
            return app_type(detail=str(exception))
    if isinstance(exception, SanicException) and 400 <= exception.status_code < 500:
        return errors.InvalidInput(field="request", detail=str(exception))
    # Sanic's own 503 (a response timeout while waiting for a database connection) and outages.
    if is_store_outage(exception) or getattr(exception, "status_code", None) == 503:
        return errors.ServiceUnavailable()
    return errors.InternalError()


# PostgreSQL going away mid-request: a restart or shutdown by an operator (57P01-57P03), a
# connection lost or refused. tortoise passes these through as they are, or wrapped. A pooled
# connection whose server went away mid-operation is left in a state asyncpg refuses to use
# ("cannot switch to state ...; another operation is in progress"): seen in the PostgreSQL
# restart fault test (tests/faults), it is the same outage, one request later.
_POSTGRES_OUTAGES = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions._base.InternalClientError,
)
_OUTAGES = (
    DBConnectionError,
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    *_POSTGRES_OUTAGES,
)


def is_store_outage(exception: BaseException) -> bool:
    """True when the database or Redis is down or busy: a 503 the client may retry, not a bug."""
    seen: set[int] = set()
    problem: BaseException | None = exception
    # The outage may be the cause of what reached us (tortoise wraps driver errors).
    while problem is not None and id(problem) not in seen:
        seen.add(id(problem))
        message = str(problem).lower()
        if isinstance(problem, _OUTAGES):
            return True
        # asyncpg on a connection the server closed ("connection is closed" / "was closed"), or
        # one the pool took back while PostgreSQL restarted ("released back to the pool").
        if isinstance(problem, asyncpg.InterfaceError) and (
            "closed" in message or "released back to the pool" in message
        ):
            return True
        # SQLite shared by processes: a writer that waited out the busy timeout gets "locked".
        if isinstance(problem, OperationalError) and (
            "database is locked" in message or "database is busy" in message
        ):
            return True
        problem = problem.__cause__ or problem.__context__
    return False


def install_error_handler(app: Sanic) -> None:
    """Answer every exception, ours or Sanic's, in the one JSON error shape; never a traceback."""

    async def handle(request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, RequestCancelled):
            raise exception
        error = _as_app_error(exception)
        if isinstance(error, errors.InternalError):
            log.exception("unhandled error on %s %s", request.method, request.path)
        elif isinstance(error, errors.ServiceUnavailable):
            log.warning("store unavailable on %s %s: %r", request.method, request.path, exception)
        return error_response(request, error)

    app.error_handler.add(Exception, handle)
