"""The one resolver of location references: an id, or a code (the caller's own first)."""

from __future__ import annotations

from uuid import UUID

import pytest

from oms.domain.catalogue import Location, LocationKind, location_named

TENANT = UUID(int=7)
OWN = Location(UUID(int=1), "WH-1", "own", LocationKind.WAREHOUSE, owner_tenant_id=TENANT)
GRANTED = Location(UUID(int=2), "WH-1", "operator's", LocationKind.WAREHOUSE)
HUB = Location(UUID(int=3), "HUB", "operator's hub", LocationKind.WAREHOUSE)
VISIBLE = [GRANTED, HUB, OWN]


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        pytest.param(str(OWN.id), OWN, id="own-by-id"),
        pytest.param(str(GRANTED.id), GRANTED, id="granted-by-id-though-its-code-is-shared"),
        pytest.param(OWN.id.hex, OWN, id="id-without-dashes"),
        pytest.param("WH-1", OWN, id="shared-code-means-the-own-one"),
        pytest.param("HUB", HUB, id="granted-by-code"),
        pytest.param(str(UUID(int=99)), None, id="an-id-the-caller-cannot-use"),
        pytest.param("NOPE", None, id="an-unknown-code"),
    ],
)
def test_a_location_is_named_by_its_id_or_its_code(ref: str, expected: Location | None) -> None:
    assert location_named(VISIBLE, ref, TENANT) == expected


def test_a_code_that_looks_like_an_id_still_names_its_location() -> None:
    odd = Location(UUID(int=4), str(UUID(int=98)), "odd", LocationKind.STORE, TENANT)

    assert location_named([*VISIBLE, odd], odd.code, TENANT) == odd
