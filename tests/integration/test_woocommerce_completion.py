"""A WooCommerce order shipped whole for real (waves, packing, a label): its shipment goes
back to the store as the tracking note and the status ``completed`` (SQLite and
PostgreSQL)."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine

from oms.adapters.channels.credentials import FernetCipher
from oms.adapters.channels.woocommerce_push import WooCommerceShipmentSink
from oms.adapters.db.repositories.channels import SqlChannelRepository
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.channels import ChannelKind
from oms.domain.status import FulfillmentStatus
from oms.services.channels import create_channel
from oms.services.events import Event
from oms.services.shipping import shipments_of_order
from tests.integration.returns_support import SHIPPED_AT, open_shop, returns_engine, shipped_order
from tests.store_server import store_running
from tests.woocommerce_server import API_PATH, FakeWooCommerce

__all__ = ["returns_engine"]

KEY, SECRET = "ck_complete_0123", "cs_complete_4567"


@pytest.fixture
def uow_factory(returns_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(returns_engine)


def test_the_parcel_that_ships_the_whole_order_completes_it_in_the_store(
    returns_engine: Engine, uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    open_shop(uow_factory, tenant_id)
    store = FakeWooCommerce(KEY, SECRET, orders=[{"id": 5120, "status": "processing"}])
    with store_running(store):
        repo = SqlChannelRepository(returns_engine, FernetCipher("complete-key-0123456789"))
        connection = create_channel(
            channels=repo,
            tenant_id=tenant_id,
            kind=ChannelKind.WOOCOMMERCE,
            name="teehaus",
            settings={"store_url": store.base_url},
            credentials={"consumer_key": KEY, "consumer_secret": SECRET, "webhook_secret": "w"},
            at=SHIPPED_AT,
        )
        order = shipped_order(
            uow_factory,
            tenant_id,
            ("X", 1),
            ("Y", 2),
            channel=connection.order_channel,
            external_id="5120",
        )
        (shipment,) = shipments_of_order(
            uow_factory=uow_factory, tenant_id=tenant_id, order_id=order.id
        )
        event = Event(
            id=uuid4(),
            tenant_id=tenant_id,
            type="shipment.created",
            created_at=SHIPPED_AT,
            data={
                "order_id": str(order.id),
                "carrier": shipment.carrier,
                "service": shipment.service,
                "tracking_number": shipment.tracking_number,
                "tracking_url": shipment.tracking_url,
                "contents": [{"sku": "X", "quantity": 1}, {"sku": "Y", "quantity": 2}],
            },
            topic="shipment.created",
            aggregate_id=order.id,
            detail={},
        )
        sink = WooCommerceShipmentSink(channels=repo)
        with uow_factory(readonly=True) as uow:
            (key,) = sink.subscribers(uow, event)
            prepared = sink.prepare(uow, event, key)
        outcome = sink.send(prepared, event=event, key=key, attempt=1)
        sink.close()
    assert order.fulfillment_status is FulfillmentStatus.FULFILLED
    assert outcome.delivered
    (note,) = store.notes["5120"]
    assert shipment.tracking_number
    assert shipment.tracking_number in note["note"]
    (put,) = [r for r in store.requests if r.method == "PUT"]
    assert (put.path, put.body) == (f"{API_PATH}/orders/5120", {"status": "completed"})
    assert store.orders[0]["status"] == "completed"
