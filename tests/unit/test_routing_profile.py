"""A routing profile document: what is read can be written back and means the same."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.domain.errors import InvalidRequest
from oms.domain.routing_profile import READ_ONLY_FIELDS, RoutingProfile

codes = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.", min_size=1, max_size=12)
amounts = st.decimals(
    min_value=Decimal(0), max_value=Decimal("999999"), places=2, allow_nan=False
).map(str)

documents = st.fixed_dictionaries(
    {},
    optional={
        "allow_split": st.booleans(),
        "max_locations": st.integers(1, 20),
        "excluded_locations": st.lists(codes, max_size=4),
        "ship_from_store": st.booleans(),
        "daily_capacity": st.dictionaries(codes, st.integers(0, 10_000), max_size=3),
        "safety_stock": st.dictionaries(codes, st.integers(0, 1_000), max_size=3),
        "handling_cost": st.dictionaries(codes, amounts, max_size=3),
        "default_handling_cost": amounts,
        "split_penalty": amounts,
        "service_levels": st.dictionaries(
            st.sampled_from(["standard", "express", "overnight", "economy"]),
            st.integers(0, 60),
            min_size=1,
            max_size=4,
        ),
    },
)


@given(documents, st.integers(0, 10_000))
def test_a_profile_read_back_from_its_document_is_the_same_profile(
    raw: dict[str, Any], version: int
) -> None:
    profile = RoutingProfile.from_dict(raw, version=version)

    document = {**profile.to_dict(), "version": version, "created_by": "api_key:x"}

    assert RoutingProfile.from_dict(document, version=version) == profile


def test_what_describes_a_saved_version_is_read_only_and_ignored() -> None:
    profile = RoutingProfile.from_dict({"split_penalty": "3.00"})
    shown = {
        **profile.to_dict(),
        "version": 7,
        "created_at": "2026-01-01T00:00:00Z",
        "created_by": "api_key:1",
    }

    assert set(shown) - set(profile.to_dict()) == READ_ONLY_FIELDS
    assert RoutingProfile.from_dict(shown) == profile


def test_an_unknown_setting_is_still_refused_with_its_pointer() -> None:
    with pytest.raises(InvalidRequest) as refused:
        RoutingProfile.from_dict({"split_penalti": "3.00"})

    assert [e.pointer for e in refused.value.errors] == ["#/split_penalti"]
