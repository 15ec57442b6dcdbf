"""Carrier webhooks: only events signed with the secret a carrier shares with us are read.

A carrier signs the raw body of ``POST /v1/carriers/{carrier}/events``; the use case checks
the signature over the exact bytes received, before anything in them is parsed or stored,
through the ``SignatureCheck`` port (``oms.adapters.carriers.signature.verify``, HMAC-SHA256,
bound to the deployment's ``OMS_CARRIER_WEBHOOK_SECRET`` by ``oms.wiring``). What the events
then change is ``oms.services.tracking``'s.
"""

from __future__ import annotations

from collections.abc import Callable

from oms.domain.errors import Unauthenticated

__all__ = ["SignatureCheck", "authenticate_carrier_events"]

# Whether the signature (None when none was sent) is that of the body; never raises.
SignatureCheck = Callable[[bytes, str | None], bool]


def authenticate_carrier_events(
    *, body: bytes, signature: str | None, check: SignatureCheck
) -> None:
    """Refuse (Unauthenticated) a carrier's events whose signature is missing or wrong."""
    if not check(body, signature):
        raise Unauthenticated("Missing or wrong signature of the carrier's events")
