"""Packing: which box a fulfilment order's items go in, and whether the packer scanned them right.

Box choice (cartonisation, one box at a time):

* A box fits when the items' total volume fills at most ``MAX_FILL_RATIO`` of it, its
  ``max_weight_grams`` carries the items plus its own tare, and every item with known
  dimensions fits in it on its own (sorted sides against sorted inner sides, so any
  orientation with faces parallel to the walls counts).
* Items whose dimensions are not all known count by weight only.
* ``choose_box`` takes the smallest fitting box: by volume, then max weight, then code.

Scan verification:

* Each scan is a SKU of the fulfilment order (exact, case-sensitive) or a barcode that
  ``barcodes`` maps to a SKU; surrounding whitespace is ignored. Numeric barcodes compare as
  GTIN-14 (``gtin14``), so a UPC-A, its EAN-13 with a leading 0 and its GTIN-14 all match.
* A scan is refused when it is blank, matches no item of the order ("wrong item"), matches
  barcodes of several SKUs, or goes beyond the units still to pack ("surplus").
  ``verify_scans`` reports every refused scan with its JSON pointer, not only the first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Literal
from uuid import UUID

from oms.domain.errors import FieldError, InvalidRequest

__all__ = [
    "MAX_FILL_RATIO",
    "Box",
    "PackItem",
    "Package",
    "PackageItem",
    "ScanProblem",
    "ScanResult",
    "box_fits",
    "check_scans",
    "choose_box",
    "gtin14",
    "is_valid_gtin",
    "package_weight",
    "validate_boxes",
    "verify_scans",
]

# Rigid items never tessellate perfectly, and the packer needs room for void fill and to
# close the lid: items that add up to more than 85% of a box's volume rarely go in it.
MAX_FILL_RATIO = Fraction(85, 100)

_GTIN_LENGTHS = frozenset({8, 12, 13, 14})


@dataclass(frozen=True)
class Box:
    """A shipping box: inner dimensions, how much it may carry in total, and its own weight."""

    code: str
    length_mm: int
    width_mm: int
    height_mm: int
    max_weight_grams: int
    tare_grams: int = 0

    @property
    def volume_mm3(self) -> int:
        """The inner volume in cubic millimetres."""
        return self.length_mm * self.width_mm * self.height_mm


@dataclass(frozen=True)
class PackItem:
    """``quantity`` units of one SKU; dimensions are per unit and may be unknown."""

    sku: str
    quantity: int
    weight_grams: int
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None

    @property
    def sides_mm(self) -> tuple[int, int, int] | None:
        """The three sides of one unit, shortest first; None unless all three are known."""
        if self.length_mm is None or self.width_mm is None or self.height_mm is None:
            return None
        a, b, c = sorted((self.length_mm, self.width_mm, self.height_mm))
        return a, b, c


def validate_boxes(boxes: Sequence[Box]) -> None:
    """Refuse boxes with blank codes, non-positive sizes or a tare they cannot carry."""
    errors = _box_errors(boxes)
    if errors:
        raise InvalidRequest("The boxes are not valid", errors)


def choose_box(boxes: Sequence[Box], items: Sequence[PackItem]) -> Box | None:
    """The smallest box (volume, max weight, code) the items fit in; None when none does."""
    errors = _box_errors(boxes) + _item_errors(items)
    if errors:
        raise InvalidRequest("Cannot choose a box for these items", errors)
    fitting = [box for box in boxes if box_fits(box, items)]
    return min(fitting, key=_size_order, default=None)


def _size_order(box: Box) -> tuple[int, int, str]:
    return box.volume_mm3, box.max_weight_grams, box.code


def box_fits(box: Box, items: Sequence[PackItem]) -> bool:
    """Whether the items fit ``box`` by volume (with the fill ratio), weight and sides."""
    if package_weight(box, items) > box.max_weight_grams:
        return False
    if _items_volume(items) > box.volume_mm3 * MAX_FILL_RATIO:
        return False
    box_sides = sorted((box.length_mm, box.width_mm, box.height_mm))
    for item in items:
        sides = item.sides_mm
        if sides is not None and any(s > b for s, b in zip(sides, box_sides, strict=True)):
            return False
    return True


def package_weight(box: Box, items: Sequence[PackItem]) -> int:
    """The packed box's weight in grams: every unit plus the box's tare."""
    return box.tare_grams + sum(item.quantity * item.weight_grams for item in items)


def _items_volume(items: Sequence[PackItem]) -> int:
    total = 0
    for item in items:
        sides = item.sides_mm
        if sides is not None:
            total += item.quantity * sides[0] * sides[1] * sides[2]
    return total


def _box_errors(boxes: Sequence[Box]) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, box in enumerate(boxes):
        where = f"#/boxes/{index}"
        if not box.code.strip():
            errors.append(FieldError(f"{where}/code", "must not be blank"))
        for name in ("length_mm", "width_mm", "height_mm", "max_weight_grams"):
            if getattr(box, name) <= 0:
                errors.append(FieldError(f"{where}/{name}", "must be positive"))
        if box.tare_grams < 0:
            errors.append(FieldError(f"{where}/tare_grams", "must not be negative"))
        elif 0 < box.max_weight_grams <= box.tare_grams:
            errors.append(FieldError(f"{where}/tare_grams", "must be less than max_weight_grams"))
    return errors


def _item_errors(items: Sequence[PackItem]) -> list[FieldError]:
    if not items:
        return [FieldError("#/items", "must list at least one item")]
    errors: list[FieldError] = []
    for index, item in enumerate(items):
        where = f"#/items/{index}"
        if not item.sku.strip():
            errors.append(FieldError(f"{where}/sku", "must not be blank"))
        if item.quantity <= 0:
            errors.append(FieldError(f"{where}/quantity", "must be positive"))
        if item.weight_grams < 0:
            errors.append(FieldError(f"{where}/weight_grams", "must not be negative"))
        for name in ("length_mm", "width_mm", "height_mm"):
            side = getattr(item, name)
            if side is not None and side <= 0:
                errors.append(FieldError(f"{where}/{name}", "must be positive when given"))
    return errors


# --- barcodes -------------------------------------------------------------------------------


def gtin14(code: str) -> str | None:
    """A numeric code of up to 14 digits, left-padded with zeros to 14; None if not numeric."""
    digits = code.strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 14:
        return None
    return digits.zfill(14)


def is_valid_gtin(code: str) -> bool:
    """Whether ``code`` is exactly a GTIN-8, -12, -13 or -14 with a correct GS1 check digit."""
    if not (code.isascii() and code.isdigit()) or len(code) not in _GTIN_LENGTHS:
        return False
    # GS1 mod 10: weights 3, 1, 3, ... from the rightmost digit before the check digit.
    body = reversed(code[:-1])
    total = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(body))
    return (10 - total % 10) % 10 == int(code[-1])


# --- scan verification ----------------------------------------------------------------------

ScanProblem = Literal["blank", "wrong_item", "ambiguous", "surplus"]


@dataclass(frozen=True)
class ScanResult:
    """One scan: the SKU it stands for and, when refused, why (``problem`` and ``message``)."""

    index: int
    code: str
    sku: str | None
    problem: ScanProblem | None = None
    message: str | None = None

    @property
    def accepted(self) -> bool:
        """Whether the scan counts as one packed unit of ``sku``."""
        return self.problem is None

    @property
    def pointer(self) -> str:
        """The JSON pointer of the scan in the request."""
        return f"#/scans/{self.index}"


def check_scans(
    *, expected: Mapping[str, int], scans: Sequence[str], barcodes: Mapping[str, str]
) -> list[ScanResult]:
    """Resolve each scan to a SKU and accept or refuse it, in scan order; never raises."""
    by_code = _barcode_index(barcodes)
    scanned: dict[str, int] = {}
    results: list[ScanResult] = []
    for index, raw in enumerate(scans):
        code = raw.strip()
        result = _resolve(index, code, expected, by_code)
        sku = result.sku
        if result.accepted and sku is not None:
            if scanned.get(sku, 0) >= expected[sku]:
                to_pack = max(expected[sku], 0)
                message = f"is one unit of {sku!r} more than the {to_pack} still to pack"
                result = ScanResult(index, code, sku, "surplus", message)
            else:
                scanned[sku] = scanned.get(sku, 0) + 1
        results.append(result)
    return results


def verify_scans(
    *, expected: Mapping[str, int], scans: Sequence[str], barcodes: Mapping[str, str]
) -> dict[str, int]:
    """Units scanned per SKU (in order of first scan); refuses every wrong or surplus scan."""
    if not scans:
        raise InvalidRequest(
            "Nothing was scanned", [FieldError("#/scans", "must list at least one scan")]
        )
    results = check_scans(expected=expected, scans=scans, barcodes=barcodes)
    errors = [
        FieldError(result.pointer, result.message or "is refused")
        for result in results
        if not result.accepted
    ]
    if errors:
        raise InvalidRequest("The scans do not match the fulfilment order", errors)
    counted: dict[str, int] = {}
    for result in results:
        if result.sku is not None:
            counted[result.sku] = counted.get(result.sku, 0) + 1
    return counted


def _code_key(code: str) -> str:
    return gtin14(code) or code.strip()


def _barcode_index(barcodes: Mapping[str, str]) -> dict[str, set[str]]:
    index: dict[str, set[str]] = {}
    for code, sku in barcodes.items():
        if code.strip():
            index.setdefault(_code_key(code), set()).add(sku)
    return index


def _resolve(
    index: int, code: str, expected: Mapping[str, int], by_code: Mapping[str, set[str]]
) -> ScanResult:
    if not code:
        return ScanResult(index, code, None, "blank", "is blank")
    if code in expected:
        return ScanResult(index, code, code)
    skus = by_code.get(_code_key(code), set())
    if len(skus) > 1:
        names = ", ".join(repr(sku) for sku in sorted(skus))
        return ScanResult(index, code, None, "ambiguous", f"{code!r} is a barcode of {names}")
    if not skus:
        message = f"{code!r} is not an item of this fulfilment order"
        return ScanResult(index, code, None, "wrong_item", message)
    (sku,) = skus
    if sku not in expected:
        message = f"{code!r} is {sku!r}, which is not an item of this fulfilment order"
        return ScanResult(index, code, sku, "wrong_item", message)
    return ScanResult(index, code, sku)


@dataclass(frozen=True)
class PackageItem:
    """Units of one fulfilment-order line inside a package or shipment."""

    seq: int
    line_no: int
    sku: str
    quantity: int

    def to_dict(self) -> dict[str, int | str]:
        """Plain dict for storage (``PackageItem(**d)`` reads it back)."""
        return {
            "seq": self.seq,
            "line_no": self.line_no,
            "sku": self.sku,
            "quantity": self.quantity,
        }


@dataclass
class Package:
    """A packed box of one fulfilment order, waiting for (or part of) a shipment."""

    id: UUID
    fulfillment_order_id: UUID
    weight_grams: int
    contents: list[PackageItem]
    created_by: str
    created_at: datetime
    box: str | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    shipment_id: UUID | None = None
