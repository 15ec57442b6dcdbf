"""Payment gateways by the name stored on each ``PaymentRecord`` and in tenant settings."""

from __future__ import annotations

from collections.abc import Callable

from oms.adapters.payments.manual import ManualGateway
from oms.adapters.payments.testing import TestGateway
from oms.domain.errors import FieldError, InvalidRequest
from oms.services.payment_gateway import PaymentGateway

__all__ = ["GATEWAY_NAMES", "gateway_named"]

_FACTORIES: dict[str, Callable[[], PaymentGateway]] = {
    ManualGateway.name: ManualGateway,
    TestGateway.name: TestGateway,
}
GATEWAY_NAMES = tuple(sorted(_FACTORIES))


def gateway_named(name: str) -> PaymentGateway:
    """A new gateway for ``name`` ("manual" or "test"); InvalidRequest at ``#/gateway`` else."""
    factory = _FACTORIES.get(name)
    if factory is None:
        known = ", ".join(GATEWAY_NAMES)
        raise InvalidRequest(
            f"Unknown payment gateway {name!r}",
            [FieldError("#/gateway", f"must be one of: {known}")],
        )
    return factory()
