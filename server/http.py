"""HTTP plumbing shared by every blueprint: request parsing, the error shape, the answer helpers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
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


def error_response(request: Request, error: errors.AppError) -> HTTPResponse:
    """The one JSON error shape, with the message in the caller's language."""
    language = language_of(request)
    message = i18n.gettext(f"error.{error.code}", language, **error.params)
    payload: dict[str, Any] = {"code": error.code, "message": message}
    payload.update({key: value for key, value in error.extra().items() if value is not None})
    request_id = getattr(request.ctx, "request_id", None)
    if request_id:
        payload["request_id"] = request_id
    return json({"error": payload}, status=error.status)


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
    if _is_store_outage(exception) or getattr(exception, "status_code", None) == 503:
        return errors.ServiceUnavailable()
    return errors.InternalError()


def _is_store_outage(exception: Exception) -> bool:
    """True when the database or Redis is down or busy: a 503 the client may retry, not a bug."""
    if isinstance(exception, DBConnectionError | RedisConnectionError | ConnectionError):
        return True
    # SQLite shared by processes: a writer that waited out the busy timeout gets "locked".
    message = str(exception).lower()
    return isinstance(exception, OperationalError) and (
        "database is locked" in message or "database is busy" in message
    )


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
