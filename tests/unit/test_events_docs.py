"""docs/events.md is true: every public type is documented, every example parses and has
the fields the API really answers, and the verification example verifies our signatures."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import standardwebhooks.webhooks as standard
from pydantic import BaseModel

from oms.adapters.webhooks.signing import signature_header
from oms.api.schemas.fulfilment import FulfillmentOrderRead, ShipmentRead
from oms.api.schemas.inbound_events import (
    CycleCountApprovedData,
    InboundClosedData,
    InboundReceivedData,
    PurchaseOrderEventData,
    TransferEventData,
)
from oms.api.schemas.inventory import StockRead
from oms.api.schemas.orders import OrderRead
from oms.api.schemas.webhooks import WebhookEndpointRead
from oms.domain.webhooks import secret_of
from oms.services.event_catalogue import PUBLIC_TYPES, RECORD_KINDS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "events.md").read_text(encoding="utf-8")
EXAMPLES = dict(re.findall(r"<!-- example: ([a-z_.]+) -->\n```json\n(.*?)\n```", DOC, re.S))
READ_MODEL: dict[str, type[BaseModel]] = {
    "order": OrderRead,
    "fulfillment_order": FulfillmentOrderRead,
    "shipment": ShipmentRead,
    "stock": StockRead,
    "webhook_endpoint": WebhookEndpointRead,
}
# The warehouse's events carry their own record (docs/events.md#the-warehouses-events).
RECORD_MODEL: dict[str, type[BaseModel]] = {
    "purchase_order.received": PurchaseOrderEventData,
    "inbound_shipment.received": InboundReceivedData,
    "inbound_shipment.closed": InboundClosedData,
    "transfer.shipped": TransferEventData,
    "cycle_count.approved": CycleCountApprovedData,
}
WHEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_every_public_type_is_in_the_table() -> None:
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", DOC, re.M))

    assert documented == set(PUBLIC_TYPES)


def test_every_kind_of_resource_has_an_example() -> None:
    assert {PUBLIC_TYPES[t][0] for t in EXAMPLES} == set(READ_MODEL) | RECORD_KINDS
    assert set(RECORD_MODEL) <= set(EXAMPLES)


def _fields(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


@pytest.mark.parametrize("event_type", sorted(EXAMPLES))
def test_an_example_has_the_shape_of_the_real_payload(event_type: str) -> None:
    example: dict[str, Any] = json.loads(EXAMPLES[event_type])

    assert set(example) == {"type", "timestamp", "data"}
    assert example["type"] == event_type
    datetime.fromisoformat(example["timestamp"].replace("Z", "+00:00"))
    model = RECORD_MODEL.get(event_type) or READ_MODEL[PUBLIC_TYPES[event_type][0]]
    assert set(example["data"]) == _fields(model)
    model.model_validate(example["data"])  # the values have the API's types too
    assert "secret" not in example["data"]


def test_the_verification_example_verifies_a_delivery() -> None:
    code = re.search(r"<!-- verification example -->\n```python\n(.*?)\n```", DOC, re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # noqa: S102 - the documentation's own example
    secret = secret_of(b"0123456789abcdef01234567")
    body = json.dumps({"type": "order.created", "timestamp": WHEN.isoformat(), "data": {}}).encode()
    timestamp = int(WHEN.timestamp())
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            [secret], msg_id="evt_1", timestamp=timestamp, body=body
        ),
    }

    class _Now(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]  # noqa: ARG003
            return WHEN

    with mock.patch.object(standard, "datetime", _Now):
        assert namespace["verify"](body, headers, secret)["type"] == "order.created"
        with pytest.raises(standard.WebhookVerificationError):
            namespace["verify"](body + b" ", headers, secret)
