"""A tenant's slug names it in its status page's URL: made from its name, or chosen and
checked; a taken one gets the first free number."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.domain.lengths import SLUG
from oms.domain.tenancy import first_free_slug, slug_from_name, slug_problem


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Acme", "acme"),
        ("Demo Outfitters", "demo-outfitters"),
        ("Café Zoë & Co.", "cafe-zoe-co"),
        ("  --Ünïcode__Shop--  ", "unicode-shop"),
        ("Müller GmbH (Köln)", "muller-gmbh-koln"),
        ("東京ストア", "shop"),
        ("!!!", "shop"),
        ("A" * 300, "a" * SLUG),
        ("word " * 40, ("word-" * 13)[:SLUG].strip("-")),
    ],
)
def test_a_slug_is_made_from_the_name(name: str, slug: str) -> None:
    assert slug_from_name(name) == slug


@given(st.text(max_size=300))
def test_every_name_makes_a_valid_slug(name: str) -> None:
    assert slug_problem(slug_from_name(name)) is None


@pytest.mark.parametrize(
    ("slug", "problem"),
    [
        ("acme", None),
        ("acme-2", None),
        ("3pl", None),
        ("a" * SLUG, None),
        ("", "must not be empty"),
        ("a" * (SLUG + 1), f"at most {SLUG} characters"),
        ("Acme", "lower-case letters a-z, digits and single hyphens between them"),
        ("-acme", "lower-case letters a-z, digits and single hyphens between them"),
        ("acme-", "lower-case letters a-z, digits and single hyphens between them"),
        ("ac--me", "lower-case letters a-z, digits and single hyphens between them"),
        ("ac_me", "lower-case letters a-z, digits and single hyphens between them"),
        ("café", "lower-case letters a-z, digits and single hyphens between them"),
        ("ac me", "lower-case letters a-z, digits and single hyphens between them"),
    ],
)
def test_a_chosen_slug_is_checked(slug: str, problem: str | None) -> None:
    assert slug_problem(slug) == problem


def test_a_taken_slug_gets_the_first_free_number() -> None:
    assert first_free_slug("acme", set()) == "acme"
    assert first_free_slug("acme", {"acme"}) == "acme-2"
    assert first_free_slug("acme", {"acme", "acme-2", "acme-4"}) == "acme-3"


def test_a_numbered_slug_still_fits() -> None:
    base = "a" * SLUG

    numbered = first_free_slug(base, {base})

    assert numbered == "a" * (SLUG - 2) + "-2"
    assert slug_problem(numbered) is None
