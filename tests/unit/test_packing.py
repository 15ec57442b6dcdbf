"""Packing rules: choosing the smallest box that fits, checking scans, and GTIN check digits."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.domain.errors import InvalidRequest
from oms.domain.packing import (
    MAX_FILL_RATIO,
    Box,
    PackItem,
    box_fits,
    check_scans,
    choose_box,
    gtin14,
    is_valid_gtin,
    package_weight,
    validate_boxes,
    verify_scans,
)

SMALL = Box("S", 200, 150, 100, max_weight_grams=2_000, tare_grams=100)  # 3,000,000 mm³
TUBE = Box("TUBE", 900, 80, 80, max_weight_grams=5_000, tare_grams=150)  # 5,760,000 mm³
MEDIUM = Box("M", 300, 250, 200, max_weight_grams=10_000, tare_grams=250)  # 15,000,000 mm³
LARGE = Box("L", 400, 300, 300, max_weight_grams=20_000, tare_grams=400)  # 36,000,000 mm³
BOXES = (LARGE, TUBE, MEDIUM, SMALL)  # deliberately not in size order


def item(
    quantity: int = 1, weight: int = 100, dims: tuple[int, int, int] | None = None, sku: str = "X"
) -> PackItem:
    if dims is None:
        return PackItem(sku, quantity, weight)
    return PackItem(sku, quantity, weight, *dims)


# --- box choice -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("boxes", "items", "expected"),
    [
        pytest.param(BOXES, [item(2, 300, (100, 100, 50))], SMALL, id="smallest-fitting"),
        pytest.param(BOXES, [item(1, 300, (50, 200, 100))], SMALL, id="item-turned-to-fit"),
        pytest.param(BOXES, [item(3, 100, (150, 100, 60))], MEDIUM, id="over-85-percent-full"),
        pytest.param(BOXES, [item(3, 100, (150, 100, 50))], SMALL, id="at-75-percent-full"),
        pytest.param(BOXES, [item(1, 1_900, (50, 50, 50))], SMALL, id="weight-plus-tare-at-limit"),
        pytest.param((SMALL, MEDIUM, LARGE), [item(1, 1_901, (50, 50, 50))], MEDIUM, id="heavy"),
        pytest.param(BOXES, [item(1, 500, (700, 60, 60))], TUBE, id="long-item-long-box"),
        pytest.param(BOXES, [item(1, 500, (60, 700, 60))], TUBE, id="long-side-in-any-field"),
        pytest.param(BOXES, [item(1, 500, (1_000, 60, 60))], None, id="too-long-for-all"),
        pytest.param(BOXES, [item(1, 1_500)], SMALL, id="unknown-dims-by-weight"),
        pytest.param(BOXES, [item(1, 4_000)], TUBE, id="unknown-dims-heavy"),
        pytest.param(BOXES, [PackItem("X", 1, 500, 5_000, None, None)], SMALL, id="partial-dims"),
        pytest.param(BOXES, [item(1, 500, (700, 60, 60)), item(1, 100)], TUBE, id="mixed-known"),
        pytest.param(BOXES, [item(1, 30_000)], None, id="too-heavy-for-all"),
        pytest.param((), [item()], None, id="no-boxes"),
    ],
)
def test_the_smallest_box_that_holds_the_items_is_chosen(
    boxes: Sequence[Box], items: list[PackItem], expected: Box | None
) -> None:
    assert choose_box(boxes, items) == expected


def test_boxes_of_equal_volume_are_chosen_by_max_weight_then_code() -> None:
    flat = Box("FLAT", 400, 100, 100, max_weight_grams=3_000)
    cube_b = Box("CUBE-B", 200, 200, 100, max_weight_grams=2_000)
    cube_a = Box("CUBE-A", 100, 200, 200, max_weight_grams=2_000)
    assert choose_box([flat, cube_b, cube_a], [item()]) == cube_a
    assert choose_box([flat, cube_b], [item()]) == cube_b


def test_every_unit_of_an_item_counts_towards_volume_and_weight() -> None:
    items = [item(2, 300, (100, 100, 50)), item(3, 200)]
    assert package_weight(SMALL, items) == 100 + 2 * 300 + 3 * 200
    assert box_fits(SMALL, items)
    assert not box_fits(SMALL, [item(6, 300, (100, 100, 50))])  # 3,000,000 mm³ > 85%


def test_the_fill_ratio_leaves_room_for_void_fill() -> None:
    assert 0 < MAX_FILL_RATIO < 1


def test_invalid_boxes_are_refused_with_the_pointer_of_each_field() -> None:
    boxes = [
        SMALL,
        Box(" ", 10, 10, 10, max_weight_grams=1_000),
        Box("BAD", 0, 10, -1, max_weight_grams=500, tare_grams=500),
        Box("NEG", 10, 10, 10, max_weight_grams=0, tare_grams=-1),
    ]
    with pytest.raises(InvalidRequest) as refused:
        choose_box(boxes, [item()])
    assert [(error.pointer, error.detail) for error in refused.value.errors] == [
        ("#/boxes/1/code", "must not be blank"),
        ("#/boxes/2/length_mm", "must be positive"),
        ("#/boxes/2/height_mm", "must be positive"),
        ("#/boxes/2/tare_grams", "must be less than max_weight_grams"),
        ("#/boxes/3/max_weight_grams", "must be positive"),
        ("#/boxes/3/tare_grams", "must not be negative"),
    ]
    with pytest.raises(InvalidRequest):
        validate_boxes(boxes)
    validate_boxes(BOXES)


@pytest.mark.parametrize(
    ("items", "pointers"),
    [
        ([], ["#/items"]),
        ([PackItem("", 0, -1)], ["#/items/0/sku", "#/items/0/quantity", "#/items/0/weight_grams"]),
        (
            [item(), PackItem("X", 1, 1, 0, None, -5)],
            ["#/items/1/length_mm", "#/items/1/height_mm"],
        ),
    ],
)
def test_invalid_items_are_refused_with_the_pointer_of_each_field(
    items: list[PackItem], pointers: list[str]
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        choose_box(BOXES, items)
    assert [error.pointer for error in refused.value.errors] == pointers


def _fits_by_hand(box: Box, items: Sequence[PackItem]) -> bool:
    weight = box.tare_grams + sum(i.quantity * i.weight_grams for i in items)
    known = [
        (i.quantity, sorted((i.length_mm, i.width_mm, i.height_mm)))
        for i in items
        if i.length_mm is not None and i.width_mm is not None and i.height_mm is not None
    ]
    volume = sum(quantity * a * b * c for quantity, (a, b, c) in known)
    box_sides = sorted((box.length_mm, box.width_mm, box.height_mm))
    return (
        weight <= box.max_weight_grams
        and volume * 100 <= box.length_mm * box.width_mm * box.height_mm * 85
        and all(all(s <= b for s, b in zip(sides, box_sides, strict=True)) for _, sides in known)
    )


@st.composite
def boxes_strategy(draw: st.DrawFn) -> Box:
    max_weight = draw(st.integers(1, 3_000))
    return Box(
        code=draw(st.text("ABC", min_size=1, max_size=2)),
        length_mm=draw(st.integers(1, 60)),
        width_mm=draw(st.integers(1, 60)),
        height_mm=draw(st.integers(1, 60)),
        max_weight_grams=max_weight,
        tare_grams=draw(st.integers(0, max_weight - 1)),
    )


side = st.none() | st.integers(1, 50)
items_strategy = st.builds(
    PackItem,
    sku=st.sampled_from(["A", "B", "C"]),
    quantity=st.integers(1, 3),
    weight_grams=st.integers(0, 500),
    length_mm=side,
    width_mm=side,
    height_mm=side,
)


@settings(max_examples=100, deadline=None)
@given(boxes=st.lists(boxes_strategy(), max_size=8), items=st.lists(items_strategy, min_size=1))
def test_the_chosen_box_fits_and_no_smaller_box_does(
    boxes: list[Box], items: list[PackItem]
) -> None:
    chosen = choose_box(boxes, items)

    def size(box: Box) -> tuple[int, int, str]:
        return (box.length_mm * box.width_mm * box.height_mm, box.max_weight_grams, box.code)

    if chosen is None:
        assert not any(_fits_by_hand(box, items) for box in boxes)
        return
    assert chosen in boxes
    assert _fits_by_hand(chosen, items)
    assert not any(_fits_by_hand(box, items) for box in boxes if size(box) < size(chosen))


# --- scan verification ------------------------------------------------------------------------

EXPECTED = {"MUG-RED": 2, "TEE-M": 1}
BARCODES = {
    "036000291452": "MUG-RED",  # UPC-A
    "4006381333931": "TEE-M",  # EAN-13
    "ALT-TEE-7": "TEE-M",  # a merchant's own label
    "5012345678900": "CAP",  # in the catalogue, not in this fulfilment order
}


@pytest.mark.parametrize(
    ("scans", "counted"),
    [
        pytest.param(["MUG-RED", "TEE-M"], {"MUG-RED": 1, "TEE-M": 1}, id="by-sku"),
        pytest.param([" MUG-RED\n", "\tTEE-M "], {"MUG-RED": 1, "TEE-M": 1}, id="whitespace"),
        pytest.param(["036000291452"], {"MUG-RED": 1}, id="upc-a-as-stored"),
        pytest.param(["0036000291452"], {"MUG-RED": 1}, id="upc-a-as-ean-13"),
        pytest.param(["00036000291452"], {"MUG-RED": 1}, id="upc-a-as-gtin-14"),
        pytest.param(["36000291452"], {"MUG-RED": 1}, id="leading-zero-lost"),
        pytest.param(["04006381333931"], {"TEE-M": 1}, id="ean-13-as-gtin-14"),
        pytest.param(["ALT-TEE-7"], {"TEE-M": 1}, id="non-numeric-barcode"),
        pytest.param(["MUG-RED", "036000291452"], {"MUG-RED": 2}, id="sku-and-barcode-add-up"),
    ],
)
def test_scans_count_by_sku_or_barcode(scans: list[str], counted: dict[str, int]) -> None:
    assert verify_scans(expected=EXPECTED, scans=scans, barcodes=BARCODES) == counted


@pytest.mark.parametrize(
    ("scans", "pointer", "message"),
    [
        pytest.param(["mug-red"], "#/scans/0", "'mug-red' is not an item", id="sku-case"),
        pytest.param(["CAP"], "#/scans/0", "'CAP' is not an item", id="unknown-sku"),
        pytest.param(
            ["TEE-M", "5012345678900"],
            "#/scans/1",
            "'5012345678900' is 'CAP', which is not an item",
            id="barcode-of-other-item",
        ),
        pytest.param(
            ["TEE-M", "TEE-M"],
            "#/scans/1",
            "one unit of 'TEE-M' more than the 1 still to pack",
            id="surplus-by-sku",
        ),
        pytest.param(
            ["MUG-RED", "036000291452", "0036000291452"],
            "#/scans/2",
            "one unit of 'MUG-RED' more than the 2 still to pack",
            id="surplus-by-barcode",
        ),
        pytest.param(["TEE-M", "  "], "#/scans/1", "is blank", id="blank-scan"),
    ],
)
def test_a_wrong_or_surplus_scan_is_refused_with_its_pointer(
    scans: list[str], pointer: str, message: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        verify_scans(expected=EXPECTED, scans=scans, barcodes=BARCODES)
    [error] = refused.value.errors
    assert error.pointer == pointer
    assert message in error.detail


def test_every_refused_scan_is_listed_not_only_the_first() -> None:
    scans = ["TEE-M", "CAP", "TEE-M", "MUG-RED", "NOPE", "04006381333931", "MUG-RED"]
    with pytest.raises(InvalidRequest) as refused:
        verify_scans(expected=EXPECTED, scans=scans, barcodes=BARCODES)
    assert [error.pointer for error in refused.value.errors] == [
        "#/scans/1",
        "#/scans/2",
        "#/scans/4",
        "#/scans/5",
    ]


def test_no_scans_at_all_are_refused() -> None:
    with pytest.raises(InvalidRequest) as refused:
        verify_scans(expected=EXPECTED, scans=[], barcodes=BARCODES)
    assert [error.pointer for error in refused.value.errors] == ["#/scans"]


def test_a_sku_with_nothing_left_to_pack_is_a_surplus() -> None:
    with pytest.raises(InvalidRequest) as refused:
        verify_scans(expected={"TEE-M": 0}, scans=["TEE-M"], barcodes={})
    assert "more than the 0 still to pack" in refused.value.errors[0].detail


def test_a_barcode_of_several_skus_is_refused_as_ambiguous() -> None:
    barcodes = {"036000291452": "MUG-RED", "36000291452": "MUG-BLUE"}
    [result] = check_scans(expected=EXPECTED, scans=["0036000291452"], barcodes=barcodes)
    assert result.problem == "ambiguous"
    assert result.message == "'0036000291452' is a barcode of 'MUG-BLUE', 'MUG-RED'"


def test_a_sku_of_the_order_wins_over_a_barcode_with_the_same_digits() -> None:
    expected = {"12345670": 1, "OTHER": 1}
    counted = verify_scans(expected=expected, scans=["12345670"], barcodes={"12345670": "OTHER"})
    assert counted == {"12345670": 1}


def test_check_scans_reports_each_scan_without_raising() -> None:
    results = check_scans(expected=EXPECTED, scans=["036000291452", "CAP "], barcodes=BARCODES)
    assert [(r.pointer, r.code, r.sku, r.accepted, r.problem) for r in results] == [
        ("#/scans/0", "036000291452", "MUG-RED", True, None),
        ("#/scans/1", "CAP", None, False, "wrong_item"),
    ]


skus = st.sampled_from(["A", "B", "C", "D"])
codes = st.sampled_from(["0012345678905", "12345678905", "ALT-1", "ALT-2", "96385074"])


@settings(max_examples=100, deadline=None)
@given(
    expected=st.dictionaries(skus, st.integers(0, 4), min_size=1),
    barcodes=st.dictionaries(codes, skus),
    data=st.data(),
)
def test_scans_never_count_more_units_than_expected(
    expected: dict[str, int], barcodes: dict[str, str], data: st.DataObject
) -> None:
    # Mostly codes of the order, so that some scan lists are accepted, with some noise.
    pool = sorted(expected) * 3 + sorted(barcodes) + ["", " A ", "a", "E"]
    scans = data.draw(st.lists(st.sampled_from(pool), max_size=8))
    results = check_scans(expected=expected, scans=scans, barcodes=barcodes)
    for sku in {r.sku for r in results if r.accepted}:
        assert sku is not None
        assert sum(1 for r in results if r.accepted and r.sku == sku) <= expected[sku]
    if not scans or not all(result.accepted for result in results):
        with pytest.raises(InvalidRequest):
            verify_scans(expected=expected, scans=scans, barcodes=barcodes)
        return
    counted = verify_scans(expected=expected, scans=scans, barcodes=barcodes)
    assert all(units <= expected[sku] for sku, units in counted.items())
    assert sum(counted.values()) == len(scans)


# --- GTIN -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "4006381333931",
        "036000291452",
        "00036000291452",
        "96385074",
        "5012345678900",
        "10012345678902",
    ],
)
def test_gtins_with_a_correct_check_digit_are_valid(code: str) -> None:
    assert is_valid_gtin(code)


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("4006381333932", id="wrong-check-digit"),
        pytest.param("036000291453", id="wrong-check-digit-upc"),
        pytest.param("36000291452", id="eleven-digits"),
        pytest.param("123456789012345", id="fifteen-digits"),
        pytest.param("", id="empty"),
        pytest.param("ABCDEFGHIJKLM", id="letters"),
        pytest.param(" 4006381333931", id="whitespace"),
        pytest.param("٤٠٠٦٣٨١٣٣٣٩٣١", id="non-ascii-digits"),
    ],
)
def test_other_codes_are_not_valid_gtins(code: str) -> None:
    assert not is_valid_gtin(code)


@pytest.mark.parametrize(
    ("code", "normalised"),
    [
        ("036000291452", "00036000291452"),
        (" 4006381333931\n", "04006381333931"),
        ("00036000291452", "00036000291452"),
        ("ALT-TEE-7", None),
        ("123456789012345", None),
        ("", None),
    ],
)
def test_numeric_codes_normalise_to_fourteen_digits(code: str, normalised: str | None) -> None:
    assert gtin14(code) == normalised


@settings(max_examples=100, deadline=None)
@given(body=st.text("0123456789", min_size=12, max_size=12))
def test_exactly_one_check_digit_makes_a_gtin_valid_and_leading_zeros_do_not_matter(
    body: str,
) -> None:
    valid = [digit for digit in "0123456789" if is_valid_gtin(body + digit)]
    assert len(valid) == 1
    assert is_valid_gtin(gtin14(body + valid[0]) or "")
