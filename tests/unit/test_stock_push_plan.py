"""Which changed levels each channel is sent, and in how many pushes: the channel's
``push_stock`` flag and the locations it sells decide; each level once; at most
``per_push`` levels a push."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.adapters.memory.stock_changes import InMemoryStockChanges
from oms.domain.channels import ChannelConnection, ChannelKind
from oms.services.stock_push import StockChange, StockPush, levels_of_message, plan_stock_pushes

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
TENANT = UUID("018f0000-0000-7000-8000-000000000001")
OTHER = UUID("018f0000-0000-7000-8000-000000000002")
BER = UUID("018f0000-0000-7000-8000-0000000000b1")
HAM = UUID("018f0000-0000-7000-8000-0000000000b2")
CODES = {BER: "BER", HAM: "HAM"}


def connection(
    tenant_id: UUID = TENANT,
    *,
    push_stock: bool = True,
    locations: tuple[str, ...] = (),
    kind: ChannelKind = ChannelKind.SHOPIFY,
) -> ChannelConnection:
    return ChannelConnection(
        tenant_id=tenant_id,
        id=uuid4(),
        kind=kind,
        name=f"shop {uuid4()}",
        created_at=AT,
        updated_at=AT,
        settings={},
        credentials={},
        location_codes=locations,
        push_stock=push_stock,
    )


def change(sku: str, location_id: UUID = BER, tenant_id: UUID = TENANT) -> StockChange:
    return StockChange(tenant_id, sku, location_id, AT)


@pytest.mark.parametrize(
    ("push_stock", "locations", "expected"),
    [
        (False, (), []),
        (True, (), [("A", BER), ("A", HAM), ("B", BER)]),
        (True, ("BER",), [("A", BER), ("B", BER)]),
        (True, ("HAM",), [("A", HAM)]),
        (True, ("MUC",), []),
    ],
)
def test_the_flag_and_the_locations_sold_decide_what_is_pushed(
    push_stock: bool, locations: tuple[str, ...], expected: list[tuple[str, UUID]]
) -> None:
    shop = connection(push_stock=push_stock, locations=locations)
    changes = [change("B"), change("A", HAM), change("A"), change("A")]
    pushes = plan_stock_pushes(changes, {TENANT: [shop]}, CODES)
    assert [level for push in pushes for level in push.levels] == expected
    assert all(push.channel_id == shop.id for push in pushes)


def test_a_tenant_is_never_sent_another_tenants_levels() -> None:
    mine, theirs = connection(TENANT), connection(OTHER)
    pushes = plan_stock_pushes(
        [change("A"), change("B", tenant_id=OTHER)], {TENANT: [mine], OTHER: [theirs]}, CODES
    )
    assert {(p.channel_id, p.levels) for p in pushes} == {
        (mine.id, (("A", BER),)),
        (theirs.id, (("B", BER),)),
    }


def test_a_level_at_an_unknown_location_is_not_pushed() -> None:
    pushes = plan_stock_pushes([change("A", uuid4())], {TENANT: [connection()]}, CODES)
    assert pushes == []


@settings(max_examples=40, deadline=None)
@given(
    skus=st.lists(st.sampled_from([f"SKU-{n}" for n in range(30)]), max_size=120),
    per_push=st.integers(min_value=1, max_value=12),
)
def test_every_changed_level_is_pushed_once_in_pushes_of_at_most_per_push(
    skus: list[str], per_push: int
) -> None:
    shop = connection()
    pushes = plan_stock_pushes(
        [change(sku) for sku in skus], {TENANT: [shop]}, CODES, per_push=per_push
    )
    pushed = [level for push in pushes for level in push.levels]
    assert sorted(pushed) == sorted({(sku, BER) for sku in skus})
    assert len(pushed) == len(set(pushed))
    assert all(1 <= len(push.levels) <= per_push for push in pushes)
    assert len(pushes) == -(-len(set(skus)) // per_push)


def test_a_push_message_names_its_levels_as_they_are_read_back() -> None:
    push = StockPush(TENANT, uuid4(), (("A", BER), ("B", HAM)))
    message = push.message(AT)
    assert message.topic == "channel.stock_push"
    assert message.aggregate_id == push.channel_id
    assert levels_of_message(message.payload) == [("A", BER), ("B", HAM)]


def test_markers_in_memory_coalesce_and_are_claimed_once_the_window_has_passed() -> None:
    markers = InMemoryStockChanges()
    markers.mark(TENANT, [("A", BER)], AT)
    markers.mark(TENANT, [("A", BER), ("B", BER)], AT + timedelta(seconds=3))
    assert markers.claim_due(changed_before=AT - timedelta(seconds=1), limit=10) == []
    first = markers.claim_due(changed_before=AT, limit=10)
    assert first == [StockChange(TENANT, "A", BER, AT)]  # the first change's moment
    markers.mark(TENANT, [("A", BER)], AT + timedelta(seconds=4))  # after the claim: anew
    later = markers.claim_due(changed_before=AT + timedelta(seconds=10), limit=10)
    assert [(c.sku, c.changed_at) for c in later] == [
        ("B", AT + timedelta(seconds=3)),
        ("A", AT + timedelta(seconds=4)),
    ]
    assert markers.claim_due(changed_before=AT + timedelta(days=1), limit=10) == []


def test_every_store_kind_pushing_stock_is_planned_its_pushes() -> None:
    kinds = (ChannelKind.SHOPIFY, ChannelKind.WOOCOMMERCE, ChannelKind.MAGENTO2)
    stores = [connection(kind=kind, locations=("BER",)) for kind in kinds]
    pushes = plan_stock_pushes([change("A"), change("B", HAM)], {TENANT: stores}, CODES)
    assert {push.channel_id: push.levels for push in pushes} == {
        store.id: (("A", BER),) for store in stores
    }
