"""Tracking: shipment status derived from carrier events, and check-digit tracking numbers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.domain.tracking import (
    _DAMM,
    TERMINAL_STATUSES,
    ShipmentStatus,
    TrackingEvent,
    check_digit,
    delivered_at,
    derive_shipment_status,
    is_valid_tracking_number,
    make_tracking_number,
)

S = ShipmentStatus
LABEL, TRANSIT, OUT = S.LABEL_CREATED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY
DELIVERED, EXCEPTION, RETURNED = S.DELIVERED, S.EXCEPTION, S.RETURNED_TO_SENDER
START = datetime(2026, 11, 26, tzinfo=UTC)


def event(status: ShipmentStatus, hour: int, event_id: str | None = None) -> TrackingEvent:
    return TrackingEvent(event_id or f"{status}-{hour}", status, START + timedelta(hours=hour))


# --- status derivation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "status"),
    [
        ([], LABEL),
        ([(LABEL, 0)], LABEL),
        ([(LABEL, 0), (TRANSIT, 3)], TRANSIT),
        ([(TRANSIT, 3), (OUT, 20)], OUT),
        ([(OUT, 20), (TRANSIT, 3)], OUT),  # arrival order does not matter
        ([(OUT, 20), (TRANSIT, 19)], OUT),  # an older in_transit does not move it back
        ([(TRANSIT, 20), (OUT, 20)], OUT),  # same instant: the further status wins
        ([(EXCEPTION, 24), (TRANSIT, 30)], TRANSIT),  # a later scan clears the exception
        ([(EXCEPTION, 30), (TRANSIT, 30)], EXCEPTION),
        ([(EXCEPTION, 30), (OUT, 30)], EXCEPTION),
        ([(DELIVERED, 25), (TRANSIT, 40)], DELIVERED),  # a late in_transit changes nothing
        ([(DELIVERED, 25), (EXCEPTION, 40)], DELIVERED),  # terminal wins once it exists
        ([(EXCEPTION, 26), (RETURNED, 70), (TRANSIT, 90)], RETURNED),
        ([(DELIVERED, 25), (RETURNED, 70)], RETURNED),  # both terminal: the later wins
        ([(RETURNED, 25), (DELIVERED, 70)], DELIVERED),
        ([(RETURNED, 25), (DELIVERED, 25)], RETURNED),  # same instant: the fixed rank
    ],
)
def test_status_is_derived_from_events_by_terminal_then_time_then_rank(
    events: list[tuple[ShipmentStatus, int]], status: ShipmentStatus
) -> None:
    assert derive_shipment_status(event(s, hour) for s, hour in events) is status


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 1, 8), timezones=st.just(UTC)
)
events_strategy = st.lists(
    st.builds(
        TrackingEvent,
        event_id=st.text("abc123", min_size=1, max_size=4),
        status=st.sampled_from(ShipmentStatus),
        occurred_at=instants,
    ),
    max_size=12,
)


@settings(deadline=None)
@given(events=events_strategy, data=st.data())
def test_status_ignores_order_and_duplicates(
    events: list[TrackingEvent], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(events))
    duplicated = (
        shuffled + data.draw(st.lists(st.sampled_from(events), max_size=6)) if events else []
    )
    assert derive_shipment_status(shuffled) is derive_shipment_status(events)
    assert derive_shipment_status(duplicated) is derive_shipment_status(events)
    assert delivered_at(duplicated) == delivered_at(events)


@settings(deadline=None)
@given(events=events_strategy)
def test_status_is_one_of_the_events_and_terminal_whenever_one_is(
    events: list[TrackingEvent],
) -> None:
    status = derive_shipment_status(events)
    assert status in {e.status for e in events} or (not events and status is LABEL)
    assert (status in TERMINAL_STATUSES) == any(e.status in TERMINAL_STATUSES for e in events)


@settings(deadline=None)
@given(events=events_strategy, late=instants, status=st.sampled_from(ShipmentStatus))
def test_a_late_non_terminal_event_never_overrides_delivered(
    events: list[TrackingEvent], late: datetime, status: ShipmentStatus
) -> None:
    delivered = [e for e in events if e.status is not RETURNED] + [event(DELIVERED, 0)]
    if status in TERMINAL_STATUSES:
        status = TRANSIT
    assert derive_shipment_status(delivered) is DELIVERED
    assert derive_shipment_status([*delivered, TrackingEvent("late", status, late)]) is DELIVERED


@settings(deadline=None)
@given(events=events_strategy)
def test_delivered_at_is_the_first_delivery_scan_while_delivered(
    events: list[TrackingEvent],
) -> None:
    when = delivered_at(events)
    if derive_shipment_status(events) is DELIVERED:
        assert when == min(e.occurred_at for e in events if e.status is DELIVERED)
    else:
        assert when is None


def test_delivered_at_of_a_returned_shipment_is_none() -> None:
    assert delivered_at([event(DELIVERED, 25), event(DELIVERED, 27)]) == START + timedelta(hours=25)
    assert delivered_at([event(DELIVERED, 25), event(RETURNED, 70)]) is None
    assert delivered_at([]) is None


def test_event_times_must_be_aware_and_are_kept_in_utc() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TrackingEvent("e1", TRANSIT, datetime(2026, 11, 26, 10, 0))
    with pytest.raises(ValueError, match="event_id"):
        TrackingEvent("", TRANSIT, START)
    berlin = timezone(timedelta(hours=1))
    scanned = TrackingEvent("e1", TRANSIT, datetime(2026, 11, 26, 11, 0, tzinfo=berlin))
    assert scanned.occurred_at == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert scanned.occurred_at.tzinfo is UTC


# --- tracking numbers --------------------------------------------------------------------

serials = st.integers(min_value=0, max_value=99_999_999)


def test_the_check_digit_is_damms() -> None:
    assert check_digit("572") == "4"  # the worked example of Damm's algorithm
    assert make_tracking_number(prefix="AC", serial=12345678) == "AC123456786OM"
    assert make_tracking_number(prefix="ZZ", serial=7) == "ZZ000000076OM"


def test_the_damm_table_catches_every_single_error_and_adjacent_transposition() -> None:
    table = _DAMM
    digits = range(10)
    assert all(sorted(row) == list(digits) for row in table)  # a quasigroup: Latin square
    assert all(sorted(table[r][c] for r in digits) == list(digits) for c in digits)
    assert all(table[d][d] == 0 for d in digits)  # so a number ending in its check gives 0
    for interim in digits:  # weak total anti-symmetry: swapping x, y changes the result
        for x in digits:
            for y in digits:
                if x != y:
                    assert table[table[interim][x]][y] != table[table[interim][y]][x]


@settings(deadline=None)
@given(serial=serials, prefix=st.text("ABCXYZ", min_size=2, max_size=2))
def test_issued_tracking_numbers_are_valid(serial: int, prefix: str) -> None:
    number = make_tracking_number(prefix=prefix, serial=serial)
    assert re.fullmatch(r"[A-Z]{2}[0-9]{9}OM", number)
    assert number.startswith(prefix)
    assert int(number[2:10]) == serial
    assert is_valid_tracking_number(number)


@settings(deadline=None)
@given(serial=serials)
def test_every_single_digit_substitution_is_rejected(serial: int) -> None:
    number = make_tracking_number(prefix="AC", serial=serial)
    for position in range(2, 11):  # the eight serial digits and the check digit
        for digit in "0123456789":
            if digit != number[position]:
                typo = number[:position] + digit + number[position + 1 :]
                assert not is_valid_tracking_number(typo), typo


@settings(deadline=None)
@given(serial=serials)
def test_every_adjacent_transposition_of_different_digits_is_rejected(serial: int) -> None:
    number = make_tracking_number(prefix="AC", serial=serial)
    for position in range(2, 10):
        a, b = number[position], number[position + 1]
        if a != b:
            swapped = number[:position] + b + a + number[position + 2 :]
            assert not is_valid_tracking_number(swapped), swapped


def test_a_mistyped_first_digit_that_s10_would_miss_is_caught() -> None:
    # S10's mod-11 digit is 5 for both 00000000 and 90000000.
    number = make_tracking_number(prefix="AC", serial=0)
    assert not is_valid_tracking_number("AC9" + number[3:])


@pytest.mark.parametrize(
    "value",
    [
        "",
        "AC123456786",  # no suffix
        "AC123456786XX",  # not issued by oms
        "ac123456786OM",  # lower case
        "AC123456786om",
        " AC123456786OM",
        "AC123456786OM\n",
        "A1123456786OM",
        "AC12345678OM",  # a digit short
        "AC1234567860OM",
        "AC" + "".join(chr(0x0660 + int(d)) for d in "123456786") + "OM",  # Arabic-Indic digits
    ],
)
def test_malformed_tracking_numbers_are_rejected(value: str) -> None:
    assert is_valid_tracking_number("AC123456786OM")
    assert not is_valid_tracking_number(value)


@pytest.mark.parametrize(
    ("prefix", "serial"),
    [("A", 1), ("ABC", 1), ("ac", 1), ("A1", 1), ("ÄB", 1), ("AC", -1), ("AC", 100_000_000)],
)
def test_bad_prefixes_and_serials_are_refused(prefix: str, serial: int) -> None:
    with pytest.raises(ValueError, match=r"prefix|serial"):
        make_tracking_number(prefix=prefix, serial=serial)
