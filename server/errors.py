"""The one error type: every refusal the service gives, with its code, status and message."""

from __future__ import annotations

from typing import ClassVar


class AppError(Exception):
    """A refusal shown to the client as {"error": {"code", "message"}} with an HTTP status.

    Subclasses set `code` and `status`; the message is the i18n key `error.<code>`, formatted
    with the keyword arguments given here, in the caller's language. The arguments named in
    `shown` are also given to the client as they are, beside code and message.
    """

    code: ClassVar[str] = "bad_request"
    status: ClassVar[int] = 400
    shown: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **params: object) -> None:
        super().__init__(self.code)
        self.params = params

    def extra(self) -> dict[str, object]:
        """Machine-readable details added beside code and message: the `shown` arguments."""
        return {name: self.params.get(name) for name in self.shown}

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries, such as Retry-After (none by default)."""
        return {}


class InvalidJSON(AppError):
    code = "invalid_json"


class InvalidInput(AppError):
    """A field failed validation; `field` names it, `detail` says why."""

    code = "validation_error"
    status = 422
    shown = ("field",)


class NotFound(AppError):
    code = "not_found"
    status = 404


class MethodNotAllowed(AppError):
    code = "method_not_allowed"
    status = 405


class PayloadTooLarge(AppError):
    code = "payload_too_large"
    status = 413


class AuthRequired(AppError):
    code = "auth_required"
    status = 401


class TokenInvalid(AppError):
    code = "token_invalid"
    status = 401


class TokenExpired(AppError):
    code = "token_expired"
    status = 401


class Forbidden(AppError):
    code = "forbidden"
    status = 403


class RateLimited(AppError):
    """Too many requests from one account, device or address; `retry_after` is in seconds."""

    code = "rate_limited"
    status = 429
    shown = ("retry_after",)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.params.get("retry_after", 1))}


class ServiceUnavailable(AppError):
    code = "service_unavailable"
    status = 503


class InternalError(AppError):
    code = "internal_error"
    status = 500
