"""Fraud and risk rules: their parameters, address keys, and which orders each rule flags."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.domain import lengths
from oms.domain.addresses import Address
from oms.domain.errors import InvalidRequest
from oms.domain.risk import (
    RiskAssessment,
    RiskFacts,
    RiskMatch,
    RiskRule,
    RiskRuleKind,
    _fold,
    _fold_any,
    address_key,
    address_key_problems,
    assess,
    parse_rule_params,
    windows_needed,
)

K = RiskRuleKind
EUR_500 = {"amount": "500.00", "currency": "EUR"}
THREE_A_DAY = {"max_orders": 3, "window_hours": 24}
GOOGLEPLEX = {"line1": "1600 Amphitheatre Pkwy", "postal_code": "94043", "country": "US"}
HOME = address_key("Hauptstrasse 1", "10115", "DE")


def _facts(**changes: Any) -> RiskFacts:
    """An ordinary order: 100.00 EUR from a returning customer, shipped and billed in DE."""
    usual = RiskFacts(
        total=Decimal("100.00"),
        currency="EUR",
        email="ana@example.com",
        shipping_country="DE",
        billing_country="DE",
        shipping_address_key=HOME,
        is_new_customer=False,
        orders_by_email_in_window={24: 0},
        orders_by_address_in_window={24: 0},
    )
    return replace(usual, **changes)


def _rule(kind: RiskRuleKind, params: dict[str, Any], *, active: bool = True) -> RiskRule:
    return RiskRule(id=UUID(int=1), kind=kind, params=params, active=active)


def _flags(kind: RiskRuleKind, params: dict[str, Any], facts: dict[str, Any]) -> bool:
    return assess([_rule(kind, params)], _facts(**facts)).flagged


@pytest.mark.parametrize(
    ("kind", "params", "facts", "flagged"),
    [
        pytest.param(K.ORDER_VALUE_ABOVE, EUR_500, {"total": Decimal("812")}, True, id="above"),
        pytest.param(K.ORDER_VALUE_ABOVE, EUR_500, {"total": Decimal("500.01")}, True, id="cent"),
        pytest.param(K.ORDER_VALUE_ABOVE, EUR_500, {"total": Decimal("500")}, False, id="at"),
        pytest.param(
            K.ORDER_VALUE_ABOVE,
            EUR_500,
            {"total": Decimal("812"), "currency": "USD"},
            False,
            id="value-in-another-currency",
        ),
        pytest.param(
            K.NEW_CUSTOMER_VALUE_ABOVE,
            EUR_500,
            {"total": Decimal("812"), "is_new_customer": True},
            True,
            id="new-customer-above",
        ),
        pytest.param(
            K.NEW_CUSTOMER_VALUE_ABOVE,
            EUR_500,
            {"total": Decimal("812")},
            False,
            id="returning-customer-above",
        ),
        pytest.param(
            K.NEW_CUSTOMER_VALUE_ABOVE,
            EUR_500,
            {"total": Decimal("500.00"), "is_new_customer": True},
            False,
            id="new-customer-at",
        ),
        pytest.param(
            K.NEW_CUSTOMER_VALUE_ABOVE,
            EUR_500,
            {"total": Decimal("812"), "is_new_customer": True, "currency": "GBP"},
            False,
            id="new-customer-in-another-currency",
        ),
        pytest.param(K.COUNTRY_MISMATCH, {}, {"billing_country": "US"}, True, id="countries"),
        pytest.param(K.COUNTRY_MISMATCH, {}, {"billing_country": "de"}, False, id="same-country"),
        pytest.param(K.COUNTRY_MISMATCH, {}, {"billing_country": None}, False, id="no-billing"),
        pytest.param(
            K.EMAIL_VELOCITY,
            THREE_A_DAY,
            {"orders_by_email_in_window": {24: 3}},
            True,
            id="fourth-order-from-an-email",
        ),
        pytest.param(
            K.EMAIL_VELOCITY,
            THREE_A_DAY,
            {"orders_by_email_in_window": {24: 2}},
            False,
            id="third-order-from-an-email",
        ),
        pytest.param(
            K.EMAIL_VELOCITY,
            THREE_A_DAY,
            {"orders_by_email_in_window": {1: 9, 24: 0}},
            False,
            id="counts-of-other-windows-do-not-count",
        ),
        pytest.param(
            K.EMAIL_VELOCITY,
            THREE_A_DAY,
            {"email": None, "orders_by_email_in_window": {}},
            False,
            id="no-email",
        ),
        pytest.param(
            K.ADDRESS_VELOCITY,
            THREE_A_DAY,
            {"orders_by_address_in_window": {24: 3}},
            True,
            id="fourth-order-to-an-address",
        ),
        pytest.param(
            K.ADDRESS_VELOCITY,
            THREE_A_DAY,
            {"orders_by_address_in_window": {24: 2}},
            False,
            id="third-order-to-an-address",
        ),
        pytest.param(
            K.ADDRESS_VELOCITY,
            THREE_A_DAY,
            {"shipping_address_key": None, "orders_by_address_in_window": {}},
            False,
            id="no-address",
        ),
        pytest.param(
            K.BLOCKED_EMAIL,
            {"emails": ["FRAUD@Example.com"]},
            {"email": "fraud@example.com"},
            True,
            id="blocked-email-in-another-case",
        ),
        pytest.param(
            K.BLOCKED_EMAIL,
            {"emails": ["fraud@example.com"]},
            {"email": "Fraud@Example.COM"},
            True,
            id="order-email-in-another-case",
        ),
        pytest.param(K.BLOCKED_EMAIL, {"emails": ["fraud@example.com"]}, {}, False, id="email"),
        pytest.param(
            K.BLOCKED_EMAIL, {"emails": ["fraud@example.com"]}, {"email": None}, False, id="none"
        ),
        pytest.param(
            K.BLOCKED_DOMAIN,
            {"domains": ["MailInator.com"]},
            {"email": "x@mailinator.com"},
            True,
            id="blocked-domain",
        ),
        pytest.param(
            K.BLOCKED_DOMAIN,
            {"domains": ["mailinator.com"]},
            {"email": "x@eu.Mailinator.com"},
            True,
            id="subdomain-of-a-blocked-domain",
        ),
        pytest.param(
            K.BLOCKED_DOMAIN,
            {"domains": ["mailinator.com"]},
            {"email": "x@notmailinator.com"},
            False,
            id="domain-with-the-same-ending",
        ),
        pytest.param(
            K.BLOCKED_DOMAIN,
            {"domains": ["mailinator.com"]},
            {"email": "x@mailinator.com.example.org"},
            False,
            id="blocked-domain-as-a-subdomain",
        ),
        pytest.param(
            K.BLOCKED_DOMAIN,
            {"domains": ["eu.mailinator.com"]},
            {"email": "x@mailinator.com"},
            False,
            id="parent-of-a-blocked-subdomain",
        ),
        pytest.param(
            K.BLOCKED_ADDRESS,
            {"addresses": [GOOGLEPLEX]},
            {"shipping_address_key": address_key("1600  Amphitheatre Pkwy.", "94043", "us")},
            True,
            id="blocked-address-spelled-differently",
        ),
        pytest.param(
            K.BLOCKED_ADDRESS,
            {"addresses": [GOOGLEPLEX]},
            {"shipping_address_key": address_key("1600 Amphitheatre Pkwy", "94044", "US")},
            False,
            id="same-street-other-postal-code",
        ),
        pytest.param(
            K.BLOCKED_ADDRESS,
            {"addresses": [GOOGLEPLEX]},
            {"shipping_address_key": None},
            False,
            id="no-shipping-address",
        ),
    ],
)
def test_a_rule_flags_an_order_exactly_when_its_condition_holds(
    kind: RiskRuleKind, params: dict[str, Any], facts: dict[str, Any], flagged: bool
) -> None:
    assert _flags(kind, params, facts) is flagged


# One flagged order per kind, with the sentence an operations lead reads on the order.
DESCRIBED_MATCHES = [
    (
        K.ORDER_VALUE_ABOVE,
        EUR_500,
        {"total": Decimal("812")},
        "order total 812.00 EUR is above 500.00 EUR",
    ),
    (
        K.NEW_CUSTOMER_VALUE_ABOVE,
        {"amount": "500", "currency": "EUR"},
        {"total": Decimal("812"), "is_new_customer": True},
        "first order of a new customer, total 812.00 EUR is above 500.00 EUR",
    ),
    (
        K.COUNTRY_MISMATCH,
        {},
        {"billing_country": "DE", "shipping_country": "us"},
        "billing country DE differs from shipping country US",
    ),
    (
        K.EMAIL_VELOCITY,
        THREE_A_DAY,
        {"orders_by_email_in_window": {24: 3}},
        "4 orders from this email within 24 hours, more than the limit of 3",
    ),
    (
        K.ADDRESS_VELOCITY,
        {"max_orders": 1, "window_hours": 1},
        {"orders_by_address_in_window": {1: 1}},
        "2 orders to this shipping address within 1 hour, more than the limit of 1",
    ),
    (
        K.BLOCKED_EMAIL,
        {"emails": ["ana@example.com"]},
        {},
        "email ana@example.com is blocked",
    ),
    (
        K.BLOCKED_DOMAIN,
        {"domains": ["mailinator.com"]},
        {"email": "x@eu.mailinator.com"},
        "email domain eu.mailinator.com is blocked (rule for mailinator.com)",
    ),
    (
        K.BLOCKED_ADDRESS,
        {"addresses": [GOOGLEPLEX]},
        {"shipping_address_key": "us|94043|1600 amphitheatre pkwy"},
        "shipping address is blocked",
    ),
]


def test_every_kind_of_rule_has_a_described_match() -> None:
    assert {case[0] for case in DESCRIBED_MATCHES} == set(RiskRuleKind)


@pytest.mark.parametrize(("kind", "params", "facts", "detail"), DESCRIBED_MATCHES)
def test_a_match_says_in_one_sentence_why_the_order_was_flagged(
    kind: RiskRuleKind, params: dict[str, Any], facts: dict[str, Any], detail: str
) -> None:
    assessment = assess([_rule(kind, params)], _facts(**facts))
    assert assessment.matches == (RiskMatch(rule_id=UUID(int=1), kind=kind, detail=detail),)


@pytest.mark.parametrize(("kind", "params", "facts", "detail"), DESCRIBED_MATCHES)
def test_an_inactive_rule_never_matches(
    kind: RiskRuleKind, params: dict[str, Any], facts: dict[str, Any], detail: str
) -> None:
    assert assess([_rule(kind, params, active=False)], _facts(**facts)).matches == ()


def test_a_stored_rule_with_invalid_params_sends_every_order_to_review() -> None:
    broken = _rule(K.EMAIL_VELOCITY, {"max_orders": 0, "window_hours": 24})
    (match,) = assess([broken], _facts()).matches
    assert match.kind is K.EMAIL_VELOCITY
    assert "cannot be checked" in match.detail
    assert "#/params/max_orders" in match.detail
    assert not assess([replace(broken, active=False)], _facts()).flagged


def test_a_velocity_rule_without_the_count_for_its_window_is_a_caller_bug() -> None:
    rule = _rule(K.EMAIL_VELOCITY, {"max_orders": 3, "window_hours": 72})
    with pytest.raises(ValueError, match="72 hours"):
        assess([rule], _facts(orders_by_email_in_window={24: 0}))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (("1600  Amphitheatre Pkwy.", "94043", "US"), ("1600 amphitheatre pkwy", "94043", "us")),
        (("Flat 2, 10 Downing St", "SW1A 2AA", "GB"), ("flat 2 10 downing st.", "sw1a2aa", "gb")),
        (("Rua São Bento 5", "01010-000", "BR"), ("RUA SAO BENTO 5", "01010000", " br ")),
        (("Hauptstraße 1", None, "DE"), ("hauptstrasse 1", "", "de")),
    ],
)
def test_two_spellings_of_one_address_share_a_key(
    one: tuple[str, str | None, str], other: tuple[str, str | None, str]
) -> None:
    assert address_key(*one) == address_key(*other) is not None


def test_an_address_key_is_country_postal_code_and_street_folded() -> None:
    assert (
        address_key("1600  Amphitheatre Pkwy.", "94043", "US") == "us|94043|1600 amphitheatre pkwy"
    )
    assert address_key("1 Main St", None, "IE") == "ie||1 main st"


@pytest.mark.parametrize(
    "other",
    [
        ("1601 Amphitheatre Pkwy", "94043", "US"),
        ("1600 Amphitheatre Pkwy", "94044", "US"),
        ("1600 Amphitheatre Pkwy", "94043", "CA"),
        ("1600 Amphitheatre Pkwy", None, "US"),
    ],
)
def test_different_addresses_have_different_keys(other: tuple[str, str | None, str]) -> None:
    assert address_key(*other) != address_key("1600 Amphitheatre Pkwy", "94043", "US")


@pytest.mark.parametrize(
    ("line1", "country"), [(None, "US"), ("1 Main St", None), (" .. ", "US"), ("1 Main St", " ")]
)
def test_an_address_without_street_or_country_has_no_key(
    line1: str | None, country: str | None
) -> None:
    assert address_key(line1, "94043", country) is None


@pytest.mark.parametrize(
    ("kind", "params", "normalised"),
    [
        (K.ORDER_VALUE_ABOVE, {"amount": "500", "currency": "EUR"}, EUR_500),
        (
            K.ORDER_VALUE_ABOVE,
            {"currency": "JPY", "amount": 10000},
            {"amount": "10000", "currency": "JPY"},
        ),
        (
            K.NEW_CUSTOMER_VALUE_ABOVE,
            {"amount": "-0", "currency": "USD"},
            {"amount": "0.00", "currency": "USD"},
        ),
        (K.COUNTRY_MISMATCH, {}, {}),
        (K.EMAIL_VELOCITY, {"max_orders": 1, "window_hours": 1}, None),
        (K.ADDRESS_VELOCITY, {"max_orders": 10_000, "window_hours": 8_760}, None),
        (K.BLOCKED_EMAIL, {"emails": [" Fraud@Example.COM "]}, {"emails": ["fraud@example.com"]}),
        (K.BLOCKED_DOMAIN, {"domains": ["MailInator.com."]}, {"domains": ["mailinator.com"]}),
        (
            K.BLOCKED_ADDRESS,
            {
                "addresses": [
                    {"line1": " 1600  Amphitheatre Pkwy ", "postal_code": "94043 ", "country": "us"}
                ]
            },
            {"addresses": [GOOGLEPLEX]},
        ),
        (
            K.BLOCKED_ADDRESS,
            {"addresses": [{"line1": "1 Main St", "country": "IE"}]},
            {"addresses": [{"line1": "1 Main St", "postal_code": None, "country": "IE"}]},
        ),
    ],
)
def test_valid_params_are_accepted_and_normalised(
    kind: RiskRuleKind, params: dict[str, Any], normalised: dict[str, Any] | None
) -> None:
    expected = params if normalised is None else normalised
    parsed = parse_rule_params(kind, params)
    assert parsed == expected
    assert json.loads(json.dumps(parsed)) == expected
    assert parse_rule_params(kind, parsed) == expected


MAIN_ST = {"line1": "1 Main St", "country": "US"}


@pytest.mark.parametrize(
    ("kind", "params", "pointer"),
    [
        (K.ORDER_VALUE_ABOVE, {"currency": "EUR"}, "#/params/amount"),
        (K.ORDER_VALUE_ABOVE, {"amount": "lots", "currency": "EUR"}, "#/params/amount"),
        (K.ORDER_VALUE_ABOVE, {"amount": 500.5, "currency": "EUR"}, "#/params/amount"),
        (K.ORDER_VALUE_ABOVE, {"amount": True, "currency": "EUR"}, "#/params/amount"),
        (K.ORDER_VALUE_ABOVE, {"amount": "NaN", "currency": "EUR"}, "#/params/amount"),
        (K.ORDER_VALUE_ABOVE, {"amount": "-0.01", "currency": "EUR"}, "#/params/amount"),
        (K.ORDER_VALUE_ABOVE, {"amount": "500.001", "currency": "EUR"}, "#/params/amount"),
        (K.ORDER_VALUE_ABOVE, {"amount": "1000.5", "currency": "JPY"}, "#/params/amount"),
        (K.ORDER_VALUE_ABOVE, {"amount": "1e40", "currency": "EUR"}, "#/params/amount"),
        (K.ORDER_VALUE_ABOVE, {"amount": "500"}, "#/params/currency"),
        (K.ORDER_VALUE_ABOVE, {"amount": "500", "currency": "eur"}, "#/params/currency"),
        (K.ORDER_VALUE_ABOVE, {"amount": "500", "currency": "XYZ"}, "#/params/currency"),
        (K.NEW_CUSTOMER_VALUE_ABOVE, {"amount": "500", "currency": 978}, "#/params/currency"),
        (K.NEW_CUSTOMER_VALUE_ABOVE, {**EUR_500, "days": 30}, "#/params/days"),
        (K.COUNTRY_MISMATCH, {"strict": True}, "#/params/strict"),
        (K.COUNTRY_MISMATCH, {"a/b~c": 1}, "#/params/a~1b~0c"),
        (K.EMAIL_VELOCITY, {"max_orders": 0, "window_hours": 24}, "#/params/max_orders"),
        (K.EMAIL_VELOCITY, {"max_orders": 10_001, "window_hours": 24}, "#/params/max_orders"),
        (K.EMAIL_VELOCITY, {"max_orders": "3", "window_hours": 24}, "#/params/max_orders"),
        (K.EMAIL_VELOCITY, {"max_orders": True, "window_hours": 24}, "#/params/max_orders"),
        (K.EMAIL_VELOCITY, {"max_orders": 3.0, "window_hours": 24}, "#/params/max_orders"),
        (K.EMAIL_VELOCITY, {"max_orders": 3}, "#/params/window_hours"),
        (K.ADDRESS_VELOCITY, {"max_orders": 3, "window_hours": 0}, "#/params/window_hours"),
        (K.ADDRESS_VELOCITY, {"max_orders": 3, "window_hours": 8_761}, "#/params/window_hours"),
        (K.ADDRESS_VELOCITY, {"window_hours": 24}, "#/params/max_orders"),
        (K.BLOCKED_EMAIL, {}, "#/params/emails"),
        (K.BLOCKED_EMAIL, {"emails": []}, "#/params/emails"),
        (K.BLOCKED_EMAIL, {"emails": "fraud@example.com"}, "#/params/emails"),
        (K.BLOCKED_EMAIL, {"emails": ["a@example.com", "not an email"]}, "#/params/emails/1"),
        (K.BLOCKED_EMAIL, {"emails": ["a@b@example.com"]}, "#/params/emails/0"),
        (K.BLOCKED_EMAIL, {"emails": ["@example.com"]}, "#/params/emails/0"),
        (K.BLOCKED_EMAIL, {"emails": [42]}, "#/params/emails/0"),
        (K.BLOCKED_DOMAIN, {"domains": []}, "#/params/domains"),
        (K.BLOCKED_DOMAIN, {"domains": ["x@mailinator.com"]}, "#/params/domains/0"),
        (K.BLOCKED_DOMAIN, {"domains": ["mail inator.com"]}, "#/params/domains/0"),
        (K.BLOCKED_DOMAIN, {"domains": ["ok.com", "mailinator..com"]}, "#/params/domains/1"),
        (K.BLOCKED_ADDRESS, {"addresses": []}, "#/params/addresses"),
        (K.BLOCKED_ADDRESS, {"addresses": ["1 Main St"]}, "#/params/addresses/0"),
        (K.BLOCKED_ADDRESS, {"addresses": [{"country": "US"}]}, "#/params/addresses/0/line1"),
        (
            K.BLOCKED_ADDRESS,
            {"addresses": [MAIN_ST, {"line1": "--", "country": "US"}]},
            "#/params/addresses/1/line1",
        ),
        (
            K.BLOCKED_ADDRESS,
            {"addresses": [{**MAIN_ST, "country": "USA"}]},
            "#/params/addresses/0/country",
        ),
        (
            K.BLOCKED_ADDRESS,
            {"addresses": [{**MAIN_ST, "postal_code": 94043}]},
            "#/params/addresses/0/postal_code",
        ),
        (
            K.BLOCKED_ADDRESS,
            {"addresses": [{**MAIN_ST, "city": "Springfield"}]},
            "#/params/addresses/0/city",
        ),
    ],
)
def test_invalid_params_are_refused_with_a_pointer_to_the_problem(
    kind: RiskRuleKind, params: dict[str, Any], pointer: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_rule_params(kind, params)
    assert [error.pointer for error in refused.value.errors] == [pointer]


def test_every_problem_with_the_params_is_reported_at_once() -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_rule_params(K.EMAIL_VELOCITY, {"max_orders": 0, "window_hours": 0, "per": "day"})
    assert {error.pointer for error in refused.value.errors} == {
        "#/params/max_orders",
        "#/params/window_hours",
        "#/params/per",
    }


def test_params_that_are_not_an_object_are_refused() -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_rule_params(K.COUNTRY_MISMATCH, ["strict"])  # type: ignore[arg-type]
    assert [error.pointer for error in refused.value.errors] == ["#/params"]


def test_the_windows_to_count_are_those_of_active_valid_velocity_rules() -> None:
    rules = [
        _rule(K.EMAIL_VELOCITY, {"max_orders": 3, "window_hours": 24}),
        _rule(K.EMAIL_VELOCITY, {"max_orders": 1, "window_hours": 1}),
        _rule(K.EMAIL_VELOCITY, {"max_orders": 9, "window_hours": 24}),
        _rule(K.ADDRESS_VELOCITY, {"max_orders": 3, "window_hours": 168}),
        _rule(K.EMAIL_VELOCITY, {"max_orders": 3, "window_hours": 72}, active=False),
        _rule(K.ADDRESS_VELOCITY, {"max_orders": 0, "window_hours": 48}),
        _rule(K.ORDER_VALUE_ABOVE, EUR_500),
    ]
    assert windows_needed(rules) == ({1, 24}, {168})
    assert windows_needed([]) == (set(), set())


def test_the_summary_lists_the_matches_in_rule_order_as_json() -> None:
    rules = [
        RiskRule(UUID(int=7), K.COUNTRY_MISMATCH, {}),
        RiskRule(UUID(int=5), K.ORDER_VALUE_ABOVE, EUR_500),
    ]
    summary = assess(rules, _facts(total=Decimal("812"), billing_country="US")).summary()
    assert json.loads(json.dumps(summary)) == {
        "flagged": True,
        "matches": [
            {
                "rule_id": str(UUID(int=7)),
                "kind": "country_mismatch",
                "detail": "billing country US differs from shipping country DE",
            },
            {
                "rule_id": str(UUID(int=5)),
                "kind": "order_value_above",
                "detail": "order total 812.00 EUR is above 500.00 EUR",
            },
        ],
    }
    assert RiskAssessment(matches=()).summary() == {"flagged": False, "matches": []}


# Generated rules and orders, drawn from small pools so that rules and orders often meet.
PLACES = [
    {"line1": "1600 Amphitheatre Pkwy", "postal_code": "94043", "country": "US"},
    {"line1": "1600  amphitheatre pkwy.", "postal_code": "94043", "country": "us"},
    {"line1": "Hauptstrasse 1", "postal_code": "10115", "country": "DE"},
    {"line1": "Hauptstrasse 1", "country": "DE"},
]
MONEY = st.fixed_dictionaries(
    {
        "amount": st.decimals(0, 1000, places=2).map(str),
        "currency": st.sampled_from(["EUR", "USD"]),
    }
)
VALID_PARAMS = {
    K.ORDER_VALUE_ABOVE: MONEY,
    K.NEW_CUSTOMER_VALUE_ABOVE: MONEY,
    K.COUNTRY_MISMATCH: st.just({}),
    K.EMAIL_VELOCITY: st.fixed_dictionaries(
        {"max_orders": st.integers(1, 4), "window_hours": st.sampled_from([1, 24, 168])}
    ),
    K.BLOCKED_EMAIL: st.fixed_dictionaries(
        {"emails": st.lists(st.sampled_from(["ana@example.com", "Bob@Mail.com"]), min_size=1)}
    ),
    K.BLOCKED_DOMAIN: st.fixed_dictionaries(
        {"domains": st.lists(st.sampled_from(["mailinator.com", "MAIL.com"]), min_size=1)}
    ),
    K.BLOCKED_ADDRESS: st.fixed_dictionaries(
        {"addresses": st.lists(st.sampled_from(PLACES), min_size=1)}
    ),
}
VALID_PARAMS[K.ADDRESS_VELOCITY] = VALID_PARAMS[K.EMAIL_VELOCITY]
# Whatever an older version or a hand-edited row left in the database.
STORED_JUNK = st.dictionaries(
    st.sampled_from(["amount", "currency", "max_orders", "window_hours", "emails", "x"]),
    st.one_of(st.none(), st.integers(-3, 5), st.text(max_size=4), st.lists(st.text(max_size=4))),
    max_size=3,
)
RULES = st.sampled_from(RiskRuleKind).flatmap(
    lambda kind: st.builds(
        RiskRule,
        id=st.uuids(),
        kind=st.just(kind),
        params=st.one_of(VALID_PARAMS[kind], STORED_JUNK),
        active=st.booleans(),
    )
)


def _counts(windows: set[int]) -> st.SearchStrategy[dict[int, int]]:
    return st.fixed_dictionaries({window: st.integers(0, 5) for window in windows})


def _condition_holds(rule: RiskRule, facts: RiskFacts) -> bool:
    """The rule's condition, written out independently of the module under test."""
    try:
        params = parse_rule_params(rule.kind, rule.params)
    except InvalidRequest:
        return True  # a rule that cannot be checked sends the order to review
    email = facts.email or ""
    domain = email.split("@")[-1] if "@" in email else None
    countries = {facts.billing_country, facts.shipping_country}
    if rule.kind in (K.ORDER_VALUE_ABOVE, K.NEW_CUSTOMER_VALUE_ABOVE):
        above = facts.currency == params["currency"] and facts.total > Decimal(params["amount"])
        return above and (rule.kind is K.ORDER_VALUE_ABOVE or facts.is_new_customer)
    if rule.kind is K.COUNTRY_MISMATCH:
        return None not in countries and len(countries) == 2
    if rule.kind is K.EMAIL_VELOCITY:
        earlier = facts.orders_by_email_in_window.get(params["window_hours"], 0)
        return facts.email is not None and earlier + 1 > params["max_orders"]
    if rule.kind is K.ADDRESS_VELOCITY:
        earlier = facts.orders_by_address_in_window.get(params["window_hours"], 0)
        return facts.shipping_address_key is not None and earlier + 1 > params["max_orders"]
    if rule.kind is K.BLOCKED_EMAIL:
        return email in params["emails"]
    if rule.kind is K.BLOCKED_DOMAIN:
        return domain is not None and any(
            domain == blocked or domain.endswith("." + blocked) for blocked in params["domains"]
        )
    blocked = {address_key(b["line1"], b["postal_code"], b["country"]) for b in params["addresses"]}
    return facts.shipping_address_key is not None and facts.shipping_address_key in blocked


@given(rules=st.lists(RULES, max_size=6), data=st.data())
def test_assess_flags_an_order_for_exactly_the_active_rules_whose_condition_holds(
    rules: list[RiskRule], data: st.DataObject
) -> None:
    by_email, by_address = windows_needed(rules)
    facts = data.draw(
        st.builds(
            RiskFacts,
            total=st.decimals(0, 1500, places=2),
            currency=st.sampled_from(["EUR", "USD"]),
            email=st.sampled_from(
                [None, "ana@example.com", "bob@mail.com", "eve@eu.mailinator.com", "x@gmail.com"]
            ),
            shipping_country=st.sampled_from([None, "DE", "US"]),
            billing_country=st.sampled_from([None, "DE", "US"]),
            shipping_address_key=st.sampled_from(
                [
                    None,
                    *(address_key(p["line1"], p.get("postal_code"), p["country"]) for p in PLACES),
                ]
            ),
            is_new_customer=st.booleans(),
            orders_by_email_in_window=_counts(by_email),
            orders_by_address_in_window=_counts(by_address),
        )
    )

    assessment = assess(rules, facts)

    expected = [rule for rule in rules if rule.active and _condition_holds(rule, facts)]
    assert [(m.rule_id, m.kind) for m in assessment.matches] == [(r.id, r.kind) for r in expected]
    assert assessment.flagged is bool(expected)
    assert json.loads(json.dumps(assessment.summary()))["flagged"] is bool(expected)


@given(
    st.text(alphabet=st.characters(codec="ascii"))
    | st.text(alphabet="Hauptstraße 1 Ålesund-Øst Straße ÉCOLE ǅ ﬁ ½ .,#")
    | st.text()
)
def test_an_ascii_address_is_folded_as_any_other(text: str) -> None:
    assert _fold(text) == _fold_any(text)
    assert address_key(text, "1", "NL") == (
        None if not _fold_any(text) else f"nl|1|{_fold_any(text)}"
    )


_STREETS = st.one_of(
    st.text(max_size=300),
    st.text(st.sampled_from("\ufdfa\u338f\u00df\u0130\uff21 -1"), max_size=300),
    st.text(st.characters(codec="ascii"), max_size=300),
)


@given(
    line1=_STREETS,
    postal_code=st.one_of(st.none(), st.text(max_size=20), st.just("\ufdfa" * 20)),
    country=st.sampled_from(["DE", "US", "\ufdfa"]),
)
def test_an_address_is_refused_exactly_when_its_key_would_not_fit_its_column(
    line1: str, postal_code: str | None, country: str
) -> None:
    address = Address(country=country, line1=line1, postal_code=postal_code)
    key = address_key(line1, postal_code, country)

    problems = address_key_problems(address, at="#/shipping_address")

    assert bool(problems) == (key is not None and len(key) > lengths.ADDRESS_KEY)
    assert all(p.pointer.startswith("#/shipping_address/") for p in problems)
