"""Carriers: table-rate labels, webhook signatures and the tracking simulator."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.adapters.carriers import TableRateCarrier, simulate_events, tracking_prefix
from oms.adapters.carriers.signature import sign, verify
from oms.domain.addresses import Address
from oms.domain.errors import Unauthenticated
from oms.domain.geo import GeoPoint
from oms.domain.shipping import (
    CarrierService,
    DistanceBand,
    Parcel,
    RateCard,
    RegionZone,
    WeightBreak,
    ZonePrice,
    ZoneRule,
    add_business_days,
    quote,
)
from oms.domain.tracking import (
    ShipmentStatus,
    TrackingEvent,
    derive_shipment_status,
    is_valid_tracking_number,
    make_tracking_number,
)
from oms.services.carrier_gateway import CarrierError, CarrierGateway, LabelRequest
from oms.services.carrier_webhooks import authenticate_carrier_events

D = Decimal
THURSDAY, FRIDAY = date(2026, 11, 26), date(2026, 11, 27)
MONDAY, TUESDAY, WEDNESDAY = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)
BERLIN, POTSDAM = GeoPoint(52.5200, 13.4050), GeoPoint(52.3906, 13.0645)  # 27 km apart
MUNICH = GeoPoint(48.1351, 11.5820)  # 504 km from Berlin


def zone_price(zone: str, *breaks: tuple[int, str], per_kg: str, days: int) -> ZonePrice:
    return ZonePrice(zone, tuple(WeightBreak(g, D(p)) for g, p in breaks), D(per_kg), days)


CARD = RateCard(
    currency="EUR",
    zones=ZoneRule(
        distance_bands=(DistanceBand(100, "local"), DistanceBand(600, "regional")),
        regions=(RegionZone("DE", None, "national"), RegionZone("AT", None, "eu")),
    ),
    prices=(
        zone_price("local", (1000, "4.00"), (5000, "6.00"), per_kg="0.50", days=1),
        zone_price("regional", (1000, "5.00"), (5000, "7.00"), per_kg="0.75", days=2),
        zone_price("national", (5000, "8.00"), per_kg="1.00", days=2),
        zone_price("eu", (2000, "12.00"), (10000, "18.00"), per_kg="1.50", days=4),
    ),
    max_weight_grams=31500,
)
GROUND = CarrierService("acme", "ground", "Acme Ground", CARD)
EXPRESS = CarrierService("acme", "express", "Acme Express", replace(CARD, max_weight_grams=5000))
PARCELS = (Parcel(800), Parcel(3000), Parcel(2000, 400, 300, 200))  # the last bills 4.8 kg

WAREHOUSE = Address(country="DE", city="Berlin", postal_code="10115")
CUSTOMER = Address(country="DE", city="Potsdam", postal_code="14467")
AT_POTSDAM = replace(CUSTOMER, latitude=52.3906, longitude=13.0645)


def request(service: str = "ground", **changes: Any) -> LabelRequest:
    label = LabelRequest(
        carrier="acme",
        service=service,
        ship_from=WAREHOUSE,
        ship_to=CUSTOMER,
        parcels=PARCELS,
        ship_on=THURSDAY,
        reference="FO-1001",
        origin_point=BERLIN,
        destination_point=POTSDAM,
    )
    return replace(label, **changes)


def carrier(next_serial: Callable[[], int] | None = None, **options: str) -> TableRateCarrier:
    return TableRateCarrier(
        services=[GROUND, EXPRESS], next_serial=next_serial or count(1).__next__, **options
    )


# --- table-rate labels -------------------------------------------------------------------


def test_a_label_costs_the_rate_card_price_of_every_parcel() -> None:
    gateway: CarrierGateway = carrier()
    label = gateway.buy_label(request())
    assert label.cost == D("16.00")  # 4.00 + 6.00 + 6.00, all in the local zone
    assert (label.currency, label.carrier, label.service) == ("EUR", "acme", "ground")
    assert label.deliver_by == FRIDAY  # one business day after Thursday
    quotes = [
        quote(
            GROUND,
            parcel=parcel,
            origin=BERLIN,
            origin_country="DE",
            destination=POTSDAM,
            destination_country="DE",
            destination_region=None,
            ship_on=THURSDAY,
        )
        for parcel in PARCELS
    ]
    assert None not in quotes
    assert label.cost == sum(q.price for q in quotes if q is not None)


@pytest.mark.parametrize(
    ("changes", "cost", "deliver_by"),
    [
        ({"destination_point": MUNICH}, "19.00", MONDAY),  # regional band, two days
        ({"destination_point": None}, "24.00", MONDAY),  # no point: the country-wide zone
        ({"destination_point": None, "ship_to": AT_POTSDAM}, "16.00", FRIDAY),  # its coordinates
        ({"ship_to": Address(country="AT"), "parcels": (Parcel(2500),)}, "18.00", WEDNESDAY),
    ],
)
def test_the_zone_follows_the_points_or_else_the_address_coordinates(
    changes: dict[str, Any], cost: str, deliver_by: date
) -> None:
    label = carrier().buy_label(request(**changes))
    assert (label.cost, label.deliver_by) == (D(cost), deliver_by)


def test_tracking_numbers_are_valid_distinct_and_name_the_carrier() -> None:
    gateway = carrier()
    numbers = [gateway.buy_label(request()).tracking_number for _ in range(200)]
    assert len(set(numbers)) == 200
    assert all(is_valid_tracking_number(n) and n.startswith("AC") for n in numbers)
    assert numbers[0] == make_tracking_number(prefix="AC", serial=1)


def test_the_tracking_url_points_at_the_tracking_page() -> None:
    label = carrier().buy_label(request())
    assert label.tracking_url == f"http://127.0.0.1:8000/track/{label.tracking_number}"
    shop = carrier(base_url="https://shop.example/")
    assert shop.tracking_url("AC000000076OM") == "https://shop.example/track/AC000000076OM"


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (request("overnight"), r"acme/overnight is not a table-rate .* acme/express, acme/ground"),
        (request(carrier="globex"), "globex/ground is not a table-rate carrier service"),
        (request(ship_to=Address(country="FR")), "acme/ground does not deliver from DE to FR"),
        (request(ship_to=Address(country="FR", region="cor")), "from DE to FR-COR"),
        (
            request("express", parcels=(Parcel(900), Parcel(6000))),
            "Parcel 2 weighs 6,000 g, above the 5,000 g limit of acme/express",
        ),
        (request(parcels=()), "at least one parcel"),
    ],
)
def test_refused_labels_raise_carrier_error_and_use_no_serial(
    label: LabelRequest, message: str
) -> None:
    serials: list[int] = []

    def next_serial() -> int:
        serials.append(len(serials))
        return serials[-1]

    with pytest.raises(CarrierError, match=message):
        carrier(next_serial).buy_label(label)
    assert serials == []


@pytest.mark.parametrize("serial", [-1, 100_000_000])
def test_an_exhausted_serial_range_is_a_refusal(serial: int) -> None:
    with pytest.raises(CarrierError, match="range is exhausted"):
        carrier(lambda: serial).buy_label(request())


def test_a_service_given_twice_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="acme/ground is given twice"):
        TableRateCarrier(services=[GROUND, GROUND], next_serial=count().__next__)


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("acme", "AC"),
        ("ups", "UP"),
        ("dhl-express", "DH"),
        ("Über", "BE"),
        ("x1", "XX"),
        ("", "XX"),
    ],
)
def test_the_prefix_is_the_carriers_first_two_letters(name: str, prefix: str) -> None:
    assert tracking_prefix(name) == prefix


# --- webhook signatures ------------------------------------------------------------------

BODY = b'{"tracking_number":"AC000000076OM","status":"delivered"}'
SECRET = "whsec_test"


def test_a_signature_is_sha256_hex_and_verifies() -> None:
    header = sign(BODY, SECRET)
    assert re.fullmatch("sha256=[0-9a-f]{64}", header)
    assert verify(BODY, header, SECRET)
    assert verify(BODY, "sha256=" + header[7:].upper(), SECRET)
    # The RFC 4231 test case 2 HMAC-SHA256 value.
    assert sign(b"what do ya want for nothing?", "Jefe") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


@pytest.mark.parametrize(
    ("body", "header", "secret"),
    [
        (BODY + b" ", sign(BODY, SECRET), SECRET),  # tampered body
        (BODY.replace(b"delivered", b"returned"), sign(BODY, SECRET), SECRET),
        (BODY, sign(BODY, "another secret"), SECRET),  # wrong secret
        (BODY, None, SECRET),  # missing
        (BODY, "", SECRET),
        (BODY, "sha256=", SECRET),
        (BODY, sign(BODY, SECRET)[7:], SECRET),  # no scheme
        (BODY, "sha1=" + sign(BODY, SECRET)[7:], SECRET),
        (BODY, "SHA256=" + sign(BODY, SECRET)[7:], SECRET),
        (BODY, sign(BODY, SECRET) + "00", SECRET),
        (BODY, sign(BODY, SECRET)[:-1], SECRET),
        (BODY, " " + sign(BODY, SECRET), SECRET),
        (BODY, "sha256=" + "z" * 64, SECRET),
        (BODY, "sha256=" + "é" * 64, SECRET),  # non-ASCII must not raise
        (BODY, sign(BODY, SECRET), ""),  # no secret configured
    ],
)
def test_verify_refuses_tampered_bodies_wrong_secrets_and_bad_headers(
    body: bytes, header: str | None, secret: str
) -> None:
    assert not verify(body, header, secret)


def test_signing_with_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        sign(BODY, "")


# --- tracking simulator ------------------------------------------------------------------

SHIPPED = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a Thursday, due on Monday
LATER = datetime(2026, 12, 31, tzinfo=UTC)


def journey(
    number: str, *, now: datetime = LATER, deliver_by: date | None = MONDAY, seed: int = 7
) -> list[TrackingEvent]:
    return simulate_events(
        tracking_number=number, shipped_at=SHIPPED, deliver_by=deliver_by, now=now, seed=seed
    )


NUMBERS = [make_tracking_number(prefix="AC", serial=serial) for serial in range(400)]
JOURNEYS = {number: journey(number) for number in NUMBERS}


def fate(events: list[TrackingEvent]) -> str:
    statuses = {e.status for e in events}
    if ShipmentStatus.RETURNED_TO_SENDER in statuses:
        return "returned"
    return "exception" if ShipmentStatus.EXCEPTION in statuses else "on time"


def test_the_simulator_is_deterministic() -> None:
    number = NUMBERS[0]
    assert journey(number) == journey(number) == JOURNEYS[number]
    assert any(journey(n, seed=8) != JOURNEYS[n] for n in NUMBERS[:20])


@pytest.mark.parametrize("number", NUMBERS[:40])
def test_a_journey_is_ordered_with_sequential_ids(number: str) -> None:
    events = JOURNEYS[number]
    times = [e.occurred_at for e in events]
    assert times == sorted(set(times))  # strictly increasing
    assert [e.event_id for e in events] == [f"{number}-{n}" for n in range(1, len(events) + 1)]
    assert events[0].status is ShipmentStatus.IN_TRANSIT
    assert SHIPPED + timedelta(hours=2) <= events[0].occurred_at <= SHIPPED + timedelta(hours=5)


def test_most_parcels_arrive_on_the_promised_day_a_few_a_day_late_and_rarely_back() -> None:
    fates = Counter(fate(events) for events in JOURNEYS.values())
    assert fates["on time"] > 340
    assert 4 <= fates["exception"] + fates["returned"] <= 45
    assert fates["returned"] <= 12
    for events in JOURNEYS.values():
        final = derive_shipment_status(events)
        if fate(events) == "returned":
            assert final is ShipmentStatus.RETURNED_TO_SENDER
            continue
        assert final is ShipmentStatus.DELIVERED
        assert events[-1].status is ShipmentStatus.DELIVERED
        due = MONDAY if fate(events) == "on time" else TUESDAY
        assert events[-1].occurred_at.date() == due
        assert events[-2].status is ShipmentStatus.OUT_FOR_DELIVERY
        assert events[-2].occurred_at.date() == due
        assert events[-2].occurred_at.hour == 8


def test_an_on_time_parcel_is_scanned_every_night_then_out_for_delivery() -> None:
    number = next(n for n in NUMBERS if fate(JOURNEYS[n]) == "on time")
    statuses = [(e.status, e.occurred_at.date()) for e in JOURNEYS[number]]
    transit, out, delivered = (
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    )
    assert statuses == [
        (transit, THURSDAY),
        *[(transit, THURSDAY + timedelta(days=d)) for d in (1, 2, 3)],
        (transit, MONDAY),
        (out, MONDAY),
        (delivered, MONDAY),
    ]
    morning = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert derive_shipment_status(journey(number, now=morning)) is out


def test_nothing_is_reported_before_it_happens() -> None:
    assert journey(NUMBERS[0], now=SHIPPED) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        journey(NUMBERS[0], now=datetime(2026, 12, 1))


@settings(deadline=None)
@given(
    serial=st.integers(0, 99_999_999),
    shipped=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    ),
    transit_days=st.none() | st.integers(-2, 6),
    hours=st.integers(0, 24 * 12),
    seed=st.integers() | st.text(max_size=5),
)
def test_an_earlier_run_reports_a_prefix_of_a_later_one(
    serial: int, shipped: datetime, transit_days: int | None, hours: int, seed: int | str
) -> None:
    number = make_tracking_number(prefix="AC", serial=serial)
    deliver_by = None
    if transit_days is not None:  # negative: a promise already broken at shipping
        deliver_by = shipped.date() + timedelta(days=transit_days)
        if transit_days >= 0:
            deliver_by = add_business_days(shipped.date(), transit_days)
    now = shipped + timedelta(hours=hours)

    def run(until: datetime) -> list[TrackingEvent]:
        return simulate_events(
            tracking_number=number, shipped_at=shipped, deliver_by=deliver_by, now=until, seed=seed
        )

    everything, so_far = run(shipped + timedelta(days=60)), run(now)
    assert so_far == everything[: len(so_far)]
    assert all(e.occurred_at <= now for e in so_far)
    assert all(e.occurred_at > now for e in everything[len(so_far) :])
    times = [e.occurred_at for e in everything]
    assert times == sorted(set(times))  # strictly increasing
    assert everything[0].occurred_at > shipped
    assert derive_shipment_status(everything) in {
        ShipmentStatus.DELIVERED,
        ShipmentStatus.RETURNED_TO_SENDER,
    }
    if deliver_by is not None and fate(everything) == "on time":
        first_morning = datetime.combine(deliver_by, datetime.min.time(), tzinfo=UTC)
        if everything[0].occurred_at < first_morning + timedelta(hours=7):
            assert everything[-1].occurred_at.date() == deliver_by


def test_carrier_events_are_refused_unless_the_check_accepts_their_signature() -> None:
    body = b'{"events": []}'
    good = sign(body, "a-shared-secret-of-enough-length")

    def check(raw: bytes, signature: str | None) -> bool:
        return verify(raw, signature, "a-shared-secret-of-enough-length")

    authenticate_carrier_events(body=body, signature=good, check=check)  # no error
    for wrong in (
        None,
        "",
        good.replace("sha256=", "sha1="),
        sign(body + b" ", "a-shared-secret-of-enough-length"),
    ):
        with pytest.raises(Unauthenticated):
            authenticate_carrier_events(body=body, signature=wrong, check=check)
