"""Fulfilment documents as PDF, checked by reading the PDFs back with pypdf."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PageObject, PdfReader
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfbase.pdfmetrics import stringWidth

from oms.adapters.documents.pdf import render_label, render_packing_slip, render_pick_list
from oms.domain.addresses import Address
from oms.services.document_renderer import (
    LabelDoc,
    PackingSlipDoc,
    PackingSlipLine,
    PickListDoc,
    PickListLine,
)

WAREHOUSE = Address(
    country="US",
    name="Acme Fulfilment",
    company="Acme Inc",
    line1="1 Depot Road",
    city="Reno",
    region="NV",
    postal_code="89501",
)
CUSTOMER = Address(
    country="DE",
    name="Jürgen Weiß",
    line1="Hauptstraße 5",
    line2="Hinterhaus",
    city="Berlin",
    postal_code="10115",
)
TRACKING = "1Z999AA10123456784"
HOSTILE = [
    "<b>&amp; & </para>",
    "🎁📦 Gift 🎉",
    "王小明 北京市朝阳区",
    "שלום עליכם مرحبا",
    "",
    "Ä" * 3000,
    "Hubert Blaine Wolfeschlegelsteinhausenbergerdorff " * 40,
    "line\nbreak\ttab\x00nul\u200bzero-width\u202eoverride",
]


def label_doc(**changes: Any) -> LabelDoc:
    doc = LabelDoc(
        tracking_number=TRACKING,
        carrier="UPS",
        service="Ground",
        ship_from=WAREHOUSE,
        ship_to=CUSTOMER,
        weight_grams=2341,
        order_number="#1042",
        package_index=1,
        package_count=2,
        ship_date=date(2024, 5, 1),
        reference="PO-77",
    )
    return replace(doc, **changes)


def pick_line(number: int, **changes: Any) -> PickListLine:
    line = PickListLine(
        bin=f"A-{number:03}",
        sku=f"SKU-{number:04}",
        name=f"Enamel mug, blue, size {number}",
        quantity=number % 5 + 1,
        fulfillment_orders=("#1042", "#1043"),
    )
    return replace(line, **changes)


def pick_list(lines: list[PickListLine], **changes: Any) -> PickListDoc:
    doc = PickListDoc(
        wave_id="W-2024-0007",
        location_code="RNO",
        location_name="Reno DC",
        created_at=datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
        lines=lines,
        tenant_name="Acme",
    )
    return replace(doc, **changes)


def packing_slip(**changes: Any) -> PackingSlipDoc:
    doc = PackingSlipDoc(
        order_number="#1042",
        fulfillment_order_id="fo_01HZX",
        ship_from=WAREHOUSE,
        ship_to=CUSTOMER,
        lines=[PackingSlipLine("MUG-BLUE", "Enamel mug", 2), PackingSlipLine("TEA-01", "Tea", 1)],
        packages=2,
        created_at=datetime(2024, 5, 1, 9, 30),
        note="Happy birthday!",
        merchant_name="Acme Shop",
    )
    return replace(doc, **changes)


def read(data: bytes) -> PdfReader:
    assert data.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(data))


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in read(data).pages)


@dataclass(frozen=True)
class Placed:
    """A piece of text or a filled rectangle where it lands on the page, in points."""

    text: str
    left: float
    bottom: float
    right: float
    top: float


def _apply(matrix: list[float], x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = matrix
    return a * x + c * y + e, b * x + d * y + f


def layout(page: PageObject) -> tuple[list[Placed], list[Placed]]:
    """The page's text runs and rectangles, in page coordinates."""
    texts: list[Placed] = []
    rects: list[Placed] = []

    def on_operator(operator: bytes, args: list[Any], cm: list[float], tm: list[float]) -> None:
        if operator == b"re":
            x, y, w, h = (float(value) for value in args)
            (x0, y0), (x1, y1) = _apply(cm, x, y), _apply(cm, x + w, y + h)
            rects.append(Placed("", min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))

    def on_text(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if not text.strip() or not font:
            return
        x, y = _apply(cm, *_apply(tm, 0, 0))
        scale = tm[0] * cm[0]
        width = stringWidth(text.strip(), str(font["/BaseFont"]).lstrip("/"), size * scale)
        texts.append(Placed(text.strip(), x, y, x + width, y + size * scale))

    page.extract_text(visitor_operand_before=on_operator, visitor_text=on_text)
    return texts, rects


def barcode_bars(page: PageObject) -> list[Placed]:
    """The filled rectangles sharing the most common height and baseline: the barcode's bars."""
    _, rects = layout(page)
    rows: dict[tuple[float, float], list[Placed]] = {}
    for rect in rects:
        rows.setdefault((round(rect.bottom, 2), round(rect.top, 2)), []).append(rect)
    bars = max(rows.values(), key=len)
    return sorted(bars, key=lambda rect: rect.left)


# --- shipping label --------------------------------------------------------------------------


def test_a_label_is_one_page_of_four_by_six_inches() -> None:
    reader = read(render_label(label_doc()))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == (288, 432)


def test_label_shows_the_tracking_number_under_its_barcode() -> None:
    page = read(render_label(label_doc())).pages[0]
    texts, _ = layout(page)
    bars = barcode_bars(page)
    [number] = [text for text in texts if text.text == TRACKING]
    assert number.top <= bars[0].bottom
    assert bars[0].bottom - number.top < 20
    assert bars[0].left <= number.left
    assert number.right <= bars[-1].right


def test_label_barcode_encodes_the_tracking_number_in_code_128() -> None:
    bars = barcode_bars(read(render_label(label_doc())).pages[0])
    module = min(bar.right - bar.left for bar in bars)
    pattern = ""
    for bar, following in zip(bars, [*bars[1:], None], strict=True):
        pattern += chr(ord("A") - 1 + round((bar.right - bar.left) / module))
        if following is not None:
            pattern += chr(ord("a") - 1 + round((following.left - bar.right) / module))
    expected = Code128(TRACKING)
    assert expected.width > 0  # sizing the symbol spells it out as bar and space widths
    assert pattern == expected.decomposed
    assert bars[0].left > 10  # room for the quiet zone a scanner needs either side
    assert bars[-1].right < 288 - 10


def test_label_prints_both_addresses_carrier_weight_order_and_package_count() -> None:
    text = text_of(render_label(label_doc()))
    for part in ("Acme Fulfilment", "Reno NV 89501", "Jürgen Weiß", "Berlin 10115", "DE"):
        assert part in text
    for part in ("UPS GROUND", "2.35 kg", "#1042", "1 of 2", "PO-77", "2024-05-01"):
        assert part in text


@pytest.mark.parametrize(
    ("grams", "printed"), [(2341, "2.35 kg"), (2000, "2.00 kg"), (1, "0.01 kg"), (0, "0.00 kg")]
)
def test_label_weight_is_in_kilograms_rounded_up(grams: int, printed: str) -> None:
    assert printed in text_of(render_label(label_doc(weight_grams=grams)))


def test_label_metadata_names_the_tracking_number() -> None:
    metadata = read(render_label(label_doc())).metadata
    assert metadata is not None
    assert metadata.title == f"Shipping label {TRACKING}"
    assert metadata.author == "oms"


@pytest.mark.parametrize("tracking", ["", "1Z 999 é", "1Z\n999"])
def test_a_label_refuses_a_tracking_number_no_barcode_can_carry(tracking: str) -> None:
    with pytest.raises(ValueError, match="barcode"):
        label_doc(tracking_number=tracking)


@pytest.mark.parametrize(("index", "count"), [(0, 2), (3, 2)])
def test_a_label_refuses_a_package_outside_the_shipment(index: int, count: int) -> None:
    with pytest.raises(ValueError, match="package"):
        label_doc(package_index=index, package_count=count)


def test_long_addresses_are_wrapped_or_cut_inside_the_label() -> None:
    long_name = "Maximiliane Wolfeschlegelsteinhausenbergerdorff " * 20
    unbroken = "Z" * 500
    address = replace(CUSTOMER, name=long_name, company=unbroken, line1=long_name, line2=unbroken)
    doc = label_doc(ship_to=address, ship_from=address, carrier=long_name, order_number=unbroken)
    reader = read(render_label(doc))
    assert len(reader.pages) == 1
    texts, _ = layout(reader.pages[0])
    for text in texts:
        assert text.left >= 0, text
        assert text.right <= 288, text
        assert text.bottom >= 0, text
        assert text.top <= 432, text
    printed = "\n".join(text.text for text in texts)
    assert "Berlin 10115" in printed  # the lines a courier needs most survive
    assert "DE" in printed


def test_a_long_tracking_number_narrows_the_barcode_to_fit() -> None:
    tracking = "TRK" + "0123456789ABCDEFGHIJ" * 3
    page = read(render_label(label_doc(tracking_number=tracking))).pages[0]
    bars = barcode_bars(page)
    assert bars[0].left > 0
    assert bars[-1].right < 288
    assert tracking in page.extract_text()


# --- pick list -------------------------------------------------------------------------------


def test_a_long_pick_list_flows_onto_pages_that_each_repeat_the_header_row() -> None:
    lines = [pick_line(number) for number in range(200)]
    pages = [page.extract_text() for page in read(render_pick_list(pick_list(lines))).pages]
    assert len(pages) >= 3
    for text in pages:
        assert all(heading in text for heading in ("Bin", "SKU", "Name", "Qty", "For"))
        assert "W-2024-0007" in text
    skus = [sku for text in pages for sku in re.findall(r"SKU-\d{4}", text)]
    assert skus == [line.sku for line in lines]  # every SKU, once, in the caller's order


def test_pick_list_header_shows_wave_location_time_and_totals() -> None:
    lines = [pick_line(1, quantity=3), pick_line(2, quantity=4)]
    reader = read(render_pick_list(pick_list(lines)))
    text = reader.pages[0].extract_text()
    for part in ("W-2024-0007", "RNO", "Reno DC", "2024-05-01 09:30 UTC", "Lines 2", "Units 7"):
        assert part in text
    assert reader.metadata is not None
    assert reader.metadata.title == "Pick list W-2024-0007"
    assert reader.metadata.author == "Acme"


def test_pick_list_names_the_orders_each_line_is_for_and_summarises_a_long_tail() -> None:
    many = tuple(f"#{number}" for number in range(2000, 2100))
    lines = [pick_line(1), pick_line(2, fulfillment_orders=many, bin=None)]
    text = text_of(render_pick_list(pick_list(lines)))
    assert "#1042, #1043" in text
    assert "#2000" in text
    assert re.search(r"\+\d+ more", text)
    assert "#2099" not in text


def test_pick_list_can_be_printed_on_letter_paper() -> None:
    reader = read(render_pick_list(pick_list([pick_line(1)]), page_size=LETTER))
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == LETTER


def test_an_empty_pick_list_still_renders_its_header() -> None:
    text = text_of(render_pick_list(pick_list([], tenant_name=None)))
    assert "Lines 0" in text
    assert "Units 0" in text


# --- packing slip ----------------------------------------------------------------------------


def test_packing_slip_lists_every_sku_both_addresses_and_the_note() -> None:
    text = text_of(render_packing_slip(packing_slip()))
    for part in ("Acme Shop", "#1042", "fo_01HZX", "MUG-BLUE", "TEA-01", "Happy birthday!"):
        assert part in text
    for part in ("Acme Fulfilment", "Reno NV 89501", "Jürgen Weiß", "Berlin 10115"):
        assert part in text
    assert "Total units" in text


def test_packing_slip_without_a_ship_to_shows_only_the_sender() -> None:
    text = text_of(render_packing_slip(packing_slip(ship_to=None, note=None, merchant_name=None)))
    assert "Ship from" in text
    assert "Reno NV 89501" in text
    assert "Ship to" not in text
    assert "Berlin" not in text


# --- any input -------------------------------------------------------------------------------


def test_markup_typed_by_a_customer_is_printed_literally() -> None:
    typed = "<b>Bold & Co</b> &amp;"
    customer = replace(CUSTOMER, name=typed)
    assert typed in text_of(render_packing_slip(packing_slip(ship_to=customer, note=typed)))
    assert typed in text_of(render_pick_list(pick_list([pick_line(1, name=typed)])))
    assert typed in text_of(render_label(label_doc(ship_to=customer)))


def test_characters_the_fonts_cannot_draw_are_replaced_not_fatal() -> None:
    customer = replace(CUSTOMER, name="王小明 🎁", company="Dvořák שלום")
    text = text_of(render_label(label_doc(ship_to=customer)))
    assert "??? ?" in text
    assert "Dvorák ????" in text  # á is Latin-1; ř, which is not, falls back to its bare letter


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_renders_every_document(hostile: str) -> None:
    customer = Address(country="FR", name=hostile, company=hostile, line1=hostile, city=hostile)
    render_label(label_doc(ship_to=customer, reference=hostile, order_number=hostile))
    render_packing_slip(packing_slip(ship_to=customer, note=hostile, merchant_name=hostile))
    line = pick_line(1, bin=hostile, sku=hostile, name=hostile, fulfillment_orders=(hostile,))
    render_pick_list(pick_list([line], location_name=hostile, tenant_name=hostile))


def test_addresses_with_only_a_country_render() -> None:
    bare = Address(country="US")
    assert "US" in text_of(render_label(label_doc(ship_to=bare, ship_from=bare, reference=None)))
    assert "US" in text_of(render_packing_slip(packing_slip(ship_to=bare, ship_from=bare)))


@settings(max_examples=30, deadline=None)
@given(name=st.text())
def test_any_name_renders_and_the_label_stays_one_page(name: str) -> None:
    customer = replace(CUSTOMER, name=name)
    assert len(read(render_label(label_doc(ship_to=customer))).pages) == 1
    text = text_of(render_packing_slip(packing_slip(ship_to=customer, merchant_name=name)))
    assert "Berlin 10115" in text
    render_pick_list(pick_list([pick_line(1, name=name)], location_name=name))


def test_the_same_document_renders_to_the_same_bytes() -> None:
    assert render_label(label_doc()) == render_label(label_doc())
    lines = [pick_line(number) for number in range(30)]
    assert render_pick_list(pick_list(lines)) == render_pick_list(pick_list(lines))
    assert render_packing_slip(packing_slip()) == render_packing_slip(packing_slip())
