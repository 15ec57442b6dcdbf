"""Every error as RFC 9457 ``application/problem+json``; each error class maps to one status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from oms.api.schemas.common import NUL_FREE, NUL_MESSAGE
from oms.domain.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidRequest,
    LockedOut,
    NotFound,
    OmsError,
    PreconditionFailed,
    PreconditionRequired,
    Unauthenticated,
)
from oms.services.ports import TransientStorageError

__all__ = ["install_error_handlers", "problem", "problem_for"]

log = logging.getLogger("oms.api")

PROBLEM_TYPE_BASE = "https://oms.dev/problems/"

_STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "code", "errors"})
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

STATUS_OF: list[tuple[type[OmsError], int]] = [
    (NotFound, 404),
    (InvalidRequest, 422),
    (Conflict, 409),
    (Unauthenticated, 401),
    (PreconditionFailed, 412),
    (PreconditionRequired, 428),
    (Forbidden, 403),
    (Gone, 410),
    (LockedOut, 423),
]


def status_of(error: OmsError) -> int:
    """The HTTP status an error answers with, the API's and the portal's alike."""
    return next((s for cls, s in STATUS_OF if isinstance(error, cls)), 400)


def problem(
    status: int,
    *,
    code: str,
    title: str,
    detail: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response; ``extra`` members are added at the top level."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)


def _pointer(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        source, parts = parts[0], parts[1:]
        if source != "body":
            return f"{source}:" + ".".join(parts)
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _detail(error: Any) -> str:
    # Strict models refuse NUL through a pattern (oms.api.schemas.common); say so plainly.
    if (
        error.get("type") == "string_pattern_mismatch"
        and (error.get("ctx") or {}).get("pattern") == NUL_FREE
    ):
        return NUL_MESSAGE
    return str(error.get("msg", "invalid"))


def _validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    found = []
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        # Pydantic adds the validator name of union/tagged members; keep the field path.
        loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
        found.append({"pointer": _pointer(loc), "detail": _detail(error)})
    return found


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    async def _raised(request: Request, exc: Exception) -> JSONResponse:
        return problem_for(exc, method=request.method, path=request.url.path)

    for raised in (OmsError, TransientStorageError, Exception):
        app.add_exception_handler(raised, _raised)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        return problem(
            422,
            code="validation_failed",
            title="Validation failed",
            detail=f"{len(errors)} field(s) are not valid",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        return problem(
            exc.status_code,
            code=code,
            title=str(exc.detail) if exc.status_code != 404 else "Not found",
            detail=str(exc.detail),
            instance=request.url.path,
            headers=headers or None,
        )


def problem_for(exc: Exception, *, method: str, path: str) -> JSONResponse:
    """The answer to an error a use case raised: its problem for an ``OmsError``, 503 for a
    transient storage error, else 500 (logged). The API's handlers and the intake lane
    (``oms.api.intake_lane``) answer through this one function."""
    if isinstance(exc, OmsError):
        status = status_of(exc)
        # Extra members add to the problem; they never replace its standard members.
        extra = {k: v for k, v in exc.extra.items() if k not in _STANDARD_MEMBERS}
        if isinstance(exc, InvalidRequest) and exc.errors:
            extra["errors"] = [{"pointer": e.pointer, "detail": e.detail} for e in exc.errors]
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, LockedOut):
            headers = {"Retry-After": str(exc.extra["retry_after"])}
        return problem(
            status,
            code=exc.code,
            title=exc.title,
            detail=exc.detail,
            instance=path,
            headers=headers,
            **extra,
        )
    if isinstance(exc, TransientStorageError):
        return problem(
            503,
            code="busy",
            title="Busy",
            detail="The request met concurrent changes; retry it (it is safe to)",
            instance=path,
            headers={"Retry-After": "1"},
        )
    log.exception("unhandled error on %s %s", method, path, exc_info=exc)
    return problem(
        500,
        code="internal_error",
        title="Internal error",
        detail="Something went wrong on our side; it has been logged",
        instance=path,
    )
