"""Errors the domain and the use cases raise.

Every error the system reports on purpose is an ``OmsError``; the API turns each class into
one HTTP status (``oms.api.errors``) and the CLI into a one-line message.

    OmsError
     ├── NotFound                 the thing does not exist, or belongs to another tenant
     ├── InvalidRequest           the request is well formed but breaks a rule (field errors)
     │    └── IdempotencyMismatch  an Idempotency-Key reused with a different request body
     ├── Conflict                 the request clashes with the current state
     │    ├── AlreadyExists        a unique name (SKU, location code) is taken
     │    ├── InsufficientStock    not enough available stock and backorders not allowed
     │    ├── StockReserved        an adjustment would leave less on hand than is reserved
     │    └── IllegalTransition    the order's state does not allow this change
     ├── PreconditionFailed       the caller's version of the resource is stale (If-Match)
     ├── PreconditionRequired     a change that needs If-Match came without it
     ├── Unauthenticated          no API key, or one that is unknown or revoked (or a bad
     │                            webhook signature)
     ├── Forbidden                the key is valid but its scope does not allow this
     ├── LockedOut                too many wrong attempts (a pickup code): locked until a time
     └── Gone                     it existed but is no longer available (an expired link)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "AlreadyExists",
    "Conflict",
    "FieldError",
    "Forbidden",
    "Gone",
    "IdempotencyMismatch",
    "IllegalTransition",
    "InsufficientStock",
    "InvalidRequest",
    "LockedOut",
    "NotFound",
    "OmsError",
    "PreconditionFailed",
    "PreconditionRequired",
    "Shortage",
    "StockReserved",
    "Unauthenticated",
]


@dataclass(frozen=True)
class FieldError:
    """One problem with one field; ``pointer`` is a JSON pointer into the request body."""

    pointer: str
    detail: str


class OmsError(Exception):
    """Base of every deliberate error; ``code`` is a stable machine-readable slug."""

    code = "error"
    title = "Error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra: dict[str, Any] = extra


class NotFound(OmsError):
    code = "not_found"
    title = "Not found"


class InvalidRequest(OmsError):
    code = "invalid_request"
    title = "Invalid request"

    def __init__(self, detail: str, errors: list[FieldError] | None = None, **extra: Any):
        super().__init__(detail, **extra)
        self.errors: list[FieldError] = errors or []


class IdempotencyMismatch(InvalidRequest):
    code = "idempotency_key_reused"
    title = "Idempotency-Key reused with a different request"


class Conflict(OmsError):
    code = "conflict"
    title = "Conflict"


class AlreadyExists(Conflict):
    code = "already_exists"
    title = "Already exists"


@dataclass(frozen=True)
class Shortage:
    """How much of a SKU was asked for and how much could be reserved."""

    sku: str
    requested: int
    available: int


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    title = "Insufficient stock"

    def __init__(self, shortages: list[Shortage]) -> None:
        skus = ", ".join(s.sku for s in shortages)
        super().__init__(f"Not enough available stock for: {skus}")
        self.shortages = shortages
        self.extra = {
            "short_skus": [s.sku for s in shortages],
            "shortages": [
                {"sku": s.sku, "requested": s.requested, "available": s.available}
                for s in shortages
            ],
        }


class StockReserved(Conflict):
    code = "stock_reserved"
    title = "Stock is reserved"


class IllegalTransition(Conflict):
    code = "illegal_transition"
    title = "Not allowed in the current state"


class PreconditionFailed(OmsError):
    code = "precondition_failed"
    title = "The resource changed since you read it"


class PreconditionRequired(OmsError):
    code = "precondition_required"
    title = "If-Match required"


class Unauthenticated(OmsError):
    code = "unauthenticated"
    title = "Unauthenticated"


class Forbidden(OmsError):
    code = "forbidden"
    title = "Forbidden"


class LockedOut(OmsError):
    """Refused without looking at the attempt: too many wrong ones came before it.

    ``extra`` carries ``locked_until`` (ISO 8601) and ``retry_after`` (whole seconds)."""

    code = "locked_out"
    title = "Locked after too many wrong attempts"

    def __init__(self, detail: str, *, locked_until: datetime, now: datetime, **extra: Any):
        seconds = max(1, math.ceil((locked_until - now).total_seconds()))
        super().__init__(
            detail, locked_until=locked_until.isoformat(), retry_after=seconds, **extra
        )
        self.locked_until = locked_until


class Gone(OmsError):
    code = "gone"
    title = "No longer available"
