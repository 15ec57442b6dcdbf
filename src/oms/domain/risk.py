"""Fraud and risk rules a tenant defines, and the assessment of one order against them.

A rule is a kind and its parameters, stored as JSON. ``parse_rule_params`` validates and
normalises the parameters an API client gives. At order intake the caller gathers the
``RiskFacts``, counting earlier orders for each window ``windows_needed`` names. Then
``assess`` returns the rules the order matches. Any match puts the order on a ``fraud_review``
hold, and ``RiskAssessment.summary()`` is what the order shows.

Nothing here reads the database or the clock: the caller supplies the facts. A stored rule
whose parameters no longer validate still matches, and its detail says why, so a broken rule
sends orders to review rather than letting them through unchecked.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from uuid import UUID

from oms.domain import lengths
from oms.domain.addresses import Address
from oms.domain.errors import FieldError, InvalidRequest
from oms.domain.money import is_known_currency, minor_unit_problem, round_money

__all__ = [
    "RiskAssessment",
    "RiskFacts",
    "RiskMatch",
    "RiskRule",
    "RiskRuleKind",
    "address_key",
    "address_key_problems",
    "assess",
    "parse_rule_params",
    "windows_needed",
]


class RiskRuleKind(StrEnum):
    ORDER_VALUE_ABOVE = "order_value_above"
    COUNTRY_MISMATCH = "country_mismatch"
    EMAIL_VELOCITY = "email_velocity"
    ADDRESS_VELOCITY = "address_velocity"
    BLOCKED_EMAIL = "blocked_email"
    BLOCKED_DOMAIN = "blocked_domain"
    BLOCKED_ADDRESS = "blocked_address"
    NEW_CUSTOMER_VALUE_ABOVE = "new_customer_value_above"


_PARAM_NAMES: dict[RiskRuleKind, tuple[str, ...]] = {
    RiskRuleKind.ORDER_VALUE_ABOVE: ("amount", "currency"),
    RiskRuleKind.COUNTRY_MISMATCH: (),
    RiskRuleKind.EMAIL_VELOCITY: ("max_orders", "window_hours"),
    RiskRuleKind.ADDRESS_VELOCITY: ("max_orders", "window_hours"),
    RiskRuleKind.BLOCKED_EMAIL: ("emails",),
    RiskRuleKind.BLOCKED_DOMAIN: ("domains",),
    RiskRuleKind.BLOCKED_ADDRESS: ("addresses",),
    RiskRuleKind.NEW_CUSTOMER_VALUE_ABOVE: ("amount", "currency"),
}
_LIMITS = {"max_orders": (1, 10_000), "window_hours": (1, 8_760)}
_ADDRESS_FIELDS = ("line1", "postal_code", "country")


@dataclass(frozen=True)
class RiskRule:
    """One rule of a tenant; ``params`` as stored (JSON), checked by ``parse_rule_params``."""

    id: UUID
    kind: RiskRuleKind
    params: Mapping[str, Any]
    active: bool = True


@dataclass(frozen=True)
class RiskFacts:
    """What the rules look at; the velocity counts are of *earlier* orders, by window hours."""

    total: Decimal
    currency: str
    email: str | None
    shipping_country: str | None
    billing_country: str | None
    shipping_address_key: str | None
    is_new_customer: bool
    orders_by_email_in_window: Mapping[int, int]
    orders_by_address_in_window: Mapping[int, int]


@dataclass(frozen=True)
class RiskMatch:
    """A rule the order matched, with one sentence saying why."""

    rule_id: UUID
    kind: RiskRuleKind
    detail: str


@dataclass(frozen=True)
class RiskAssessment:
    """The rules an order matched, in the order the rules were given."""

    matches: tuple[RiskMatch, ...]

    @property
    def flagged(self) -> bool:
        return bool(self.matches)

    def summary(self) -> dict[str, Any]:
        """JSON-able form shown on the order: ``{"flagged", "matches": [...]}``."""
        return {
            "flagged": self.flagged,
            "matches": [
                {"rule_id": str(m.rule_id), "kind": m.kind.value, "detail": m.detail}
                for m in self.matches
            ],
        }


_ASCII_WORD = re.compile(r"[0-9a-z]+")


def _fold(text: str) -> str:
    """Case, accents and punctuation ignored, words separated by one space."""
    if text.isascii():  # the commonest case, as _fold_any folds it in a tenth of the time
        return " ".join(_ASCII_WORD.findall(text.lower()))
    return _fold_any(text)


def _fold_any(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in bare).split())


def address_key(line1: str | None, postal_code: str | None, country: str | None) -> str | None:
    """Key under which two spellings of one address are equal: ``"us|94043|1600 main st"``.

    ``None`` without a street line or a country; spaces inside the postal code are dropped.
    """
    street = _fold(line1 or "")
    nation = _fold(country or "").replace(" ", "")
    if not street or not nation:
        return None
    return f"{nation}|{_fold(postal_code or '').replace(' ', '')}|{street}"


def address_key_problems(address: Address | None, *, at: str) -> list[FieldError]:
    """The field to shorten when ``address``'s key is too long to store: folding can
    lengthen text (NFKD makes one "ﷺ" eighteen characters), so its limit is checked after."""
    if address is None:
        return []
    parts = (address.country or "", address.postal_code or "", address.line1 or "")
    if sum(map(len, parts)) + 2 <= lengths.ADDRESS_KEY and "".join(parts).isascii():
        return []  # folding ASCII never lengthens it: the commonest case, without folding
    key = address_key(address.line1, address.postal_code, address.country)
    if key is None or len(key) <= lengths.ADDRESS_KEY:
        return []
    postal_code = _fold(address.postal_code or "").replace(" ", "")
    field = "postal_code" if len(postal_code) > lengths.POSTAL_CODE else "line1"
    detail = (
        f"is too long once folded for address matching ({len(key)} characters with the "
        f"postal code and country; at most {lengths.ADDRESS_KEY})"
    )
    return [FieldError(f"{at}/{field}", detail)]


def parse_rule_params(kind: RiskRuleKind, params: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and normalise a rule's parameters; ``InvalidRequest`` lists every problem."""
    if not isinstance(params, Mapping):
        raise InvalidRequest(_REFUSED, [FieldError("#/params", "must be an object")])
    names = _PARAM_NAMES[kind]
    problems = [FieldError(f"#/params/{name}", "required") for name in names if name not in params]
    for key in (key for key in params if key not in names):
        problems.append(FieldError(_pointer("#/params", key), f"not a parameter of {kind.value}"))
    normalised: dict[str, Any] = {}
    for name in (name for name in names if name in params):
        value, at = params[name], f"#/params/{name}"
        if name == "amount":
            normalised[name] = _amount(value, _currency(params.get("currency")), at, problems)
        elif name == "currency" and _currency(value) is None:
            problems.append(FieldError(at, "must be an ISO 4217 code, like EUR"))
        elif name in _LIMITS:
            low, high = _LIMITS[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                problems.append(FieldError(at, f"must be a whole number from {low} to {high}"))
        elif name in _ITEMS:
            if not isinstance(value, list | tuple) or not value:
                problems.append(FieldError(at, "must be a non-empty list"))
            else:
                parse = _ITEMS[name]
                normalised[name] = [
                    parse(raw, f"{at}/{i}", problems) for i, raw in enumerate(value)
                ]
        normalised.setdefault(name, value)
    if problems:
        raise InvalidRequest(_REFUSED, problems)
    return normalised


_REFUSED = "The risk rule parameters are not valid"


def _pointer(parent: str, key: object) -> str:
    return f"{parent}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _currency(value: object) -> str | None:
    return value if isinstance(value, str) and is_known_currency(value) else None


def _amount(value: object, currency: str | None, at: str, problems: list[FieldError]) -> str:
    """The amount rounded to the currency, as a string; "" once a problem is reported."""
    amount = Decimal("NaN")
    if isinstance(value, str | int) and not isinstance(value, bool):
        with suppress(InvalidOperation):
            amount = Decimal(value)
    if not amount.is_finite():
        problems.append(FieldError(at, 'must be a decimal number as a string, like "500.00"'))
    elif amount < 0:
        problems.append(FieldError(at, "must not be negative"))
    elif currency is not None:  # without one, the currency's own problem is reported
        problem = minor_unit_problem(amount, currency)
        if problem is None:
            return str(round_money(amount, currency))
        problems.append(FieldError(at, problem))
    return ""


def _domain_name(text: str) -> bool:
    labels = text.split(".")
    return all(label and all(c.isalnum() or c == "-" for c in label) for label in labels)


def _email(raw: object, at: str, problems: list[FieldError]) -> str | None:
    email = raw.strip().lower() if isinstance(raw, str) else ""
    local, _, domain = email.partition("@")
    if local and not any(c.isspace() for c in local) and _domain_name(domain):
        return email
    problems.append(FieldError(at, "must be an email address"))
    return None


def _domain(raw: object, at: str, problems: list[FieldError]) -> str | None:
    domain = raw.strip().lower().rstrip(".") if isinstance(raw, str) else ""
    if _domain_name(domain):
        return domain
    problems.append(FieldError(at, "must be a domain name, like mailinator.com"))
    return None


def _address(raw: object, at: str, problems: list[FieldError]) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        problems.append(FieldError(at, "must be an object with line1, postal_code and country"))
        return None
    before = len(problems)
    for key in (key for key in raw if key not in _ADDRESS_FIELDS):
        problems.append(FieldError(_pointer(at, key), "only line1, postal_code, country count"))
    line1, postal_code, country = (raw.get(field) for field in _ADDRESS_FIELDS)
    if not isinstance(line1, str) or not _fold(line1):
        problems.append(FieldError(f"{at}/line1", "required: the street line"))
    if postal_code is not None and not isinstance(postal_code, str):
        problems.append(FieldError(f"{at}/postal_code", "must be text or null"))
    code = country.strip() if isinstance(country, str) else ""
    if not (len(code) == 2 and code.isascii() and code.isalpha()):
        problems.append(FieldError(f"{at}/country", "must be a two-letter code, like US"))
    if len(problems) > before:
        return None
    return {
        "line1": " ".join(str(line1).split()),
        "postal_code": " ".join((postal_code or "").split()) or None,
        "country": code.upper(),
    }


_ITEMS: dict[str, Callable[[object, str, list[FieldError]], Any]] = {
    "emails": _email,
    "domains": _domain,
    "addresses": _address,
}


def windows_needed(rules: Sequence[RiskRule]) -> tuple[set[int], set[int]]:
    """Window lengths (hours) to count earlier orders in: by email, and by shipping address."""
    windows: dict[RiskRuleKind, set[int]] = {kind: set() for kind in _VELOCITY_KINDS}
    for rule in rules:
        if rule.active and rule.kind in windows:
            try:
                windows[rule.kind].add(parse_rule_params(rule.kind, rule.params)["window_hours"])
            except InvalidRequest:
                continue  # assess sends the order to review instead
    return windows[RiskRuleKind.EMAIL_VELOCITY], windows[RiskRuleKind.ADDRESS_VELOCITY]


def assess(rules: Sequence[RiskRule], facts: RiskFacts) -> RiskAssessment:
    """The active rules the order matches.

    A value rule in another currency than the order's does not match. An active rule with
    invalid parameters always matches. ``ValueError`` if a velocity count it needs is missing.
    """
    matches: list[RiskMatch] = []
    for rule in (rule for rule in rules if rule.active):
        try:
            detail = _why(rule.kind, parse_rule_params(rule.kind, rule.params), facts)
        except InvalidRequest as error:
            problems = "; ".join(f"{e.pointer} {e.detail}" for e in error.errors)
            detail = f"the rule cannot be checked, its parameters are invalid: {problems}"
        if detail is not None:
            matches.append(RiskMatch(rule_id=rule.id, kind=rule.kind, detail=detail))
    return RiskAssessment(matches=tuple(matches))


def _why(kind: RiskRuleKind, params: Mapping[str, Any], facts: RiskFacts) -> str | None:
    """Why the order matches a rule of ``kind`` with these (valid) params; ``None`` if not."""
    email = (facts.email or "").strip().lower()
    address = facts.shipping_address_key
    match kind:
        case RiskRuleKind.ORDER_VALUE_ABOVE | RiskRuleKind.NEW_CUSTOMER_VALUE_ABOVE:
            threshold, currency = Decimal(params["amount"]), params["currency"]
            new_only = kind is RiskRuleKind.NEW_CUSTOMER_VALUE_ABOVE
            returning = new_only and not facts.is_new_customer
            if facts.currency.upper() != currency or facts.total <= threshold or returning:
                return None
            total = round_money(facts.total, currency)
            whose = "first order of a new customer, " if new_only else "order "
            return f"{whose}total {total} {currency} is above {threshold} {currency}"
        case RiskRuleKind.COUNTRY_MISMATCH:
            billing = (facts.billing_country or "").upper()
            shipping = (facts.shipping_country or "").upper()
            if not billing or not shipping or billing == shipping:
                return None
            return f"billing country {billing} differs from shipping country {shipping}"
        case RiskRuleKind.EMAIL_VELOCITY if email:
            return _velocity(params, facts.orders_by_email_in_window, "from this email")
        case RiskRuleKind.ADDRESS_VELOCITY if address is not None:
            counts = facts.orders_by_address_in_window
            return _velocity(params, counts, "to this shipping address")
        case RiskRuleKind.BLOCKED_EMAIL if email in params["emails"]:
            return f"email {email} is blocked"
        case RiskRuleKind.BLOCKED_DOMAIN if "@" in email:
            domain = email.rpartition("@")[2]
            for blocked in params["domains"]:
                if domain == blocked or domain.endswith(f".{blocked}"):
                    return f"email domain {domain} is blocked (rule for {blocked})"
        case RiskRuleKind.BLOCKED_ADDRESS if address is not None:
            if address in {address_key(**blocked) for blocked in params["addresses"]}:
                return "shipping address is blocked"
    return None


def _velocity(params: Mapping[str, Any], counts: Mapping[int, int], whose: str) -> str | None:
    window, limit = params["window_hours"], params["max_orders"]
    if window not in counts:
        raise ValueError(f"no count of orders {whose} in {window} hours (see windows_needed)")
    orders = counts[window] + 1  # the earlier ones and this one
    if orders <= limit:
        return None
    hours = "1 hour" if window == 1 else f"{window} hours"
    return f"{orders} orders {whose} within {hours}, more than the limit of {limit}"


_VELOCITY_KINDS = (RiskRuleKind.EMAIL_VELOCITY, RiskRuleKind.ADDRESS_VELOCITY)
