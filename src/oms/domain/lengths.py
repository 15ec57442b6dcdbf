"""How many characters each stored text may have: the one source of every text length.

The database columns (``oms.adapters.db.tables``) and the API's request schemas take their
lengths from here, so the API never accepts a text its column cannot hold;
``tests/unit/test_api_schemas.py`` walks both and fails on any mismatch. A text that
normalising can lengthen (an email lower-cased: "İ" becomes two characters; a street folded
for address matching: "ﷺ" becomes eighteen) is checked again once normalised, where it is
normalised (``oms.domain.verification``, ``oms.domain.risk``).

Columns holding values the code makes (statuses, kinds, event types) keep their own
lengths in the table definitions.
"""

from __future__ import annotations

from collections.abc import Iterable

from oms.domain.errors import FieldError

__all__ = [
    "ACTOR",
    "ADDRESS_KEY",
    "BARCODE",
    "BIN",
    "BOX",
    "CARRIER",
    "CARRIER_SERVICE",
    "CATEGORY",
    "CHANNEL",
    "CLOCK_TIME",
    "CURRENCY",
    "CUSTOMS_DESCRIPTION",
    "DISCOUNT_CODE",
    "EMAIL",
    "EXTERNAL_ID",
    "GATEWAY",
    "GATEWAY_REFERENCE",
    "HS_CODE",
    "IDEMPOTENCY_KEY",
    "LOCATION_CODE",
    "NAME",
    "PERSON_NAME",
    "PHONE",
    "POSTAL_CODE",
    "PRODUCT_NAME",
    "REFERENCE",
    "SERVICE_LEVEL",
    "SKU",
    "SLUG",
    "TIMEZONE",
    "TRACKING_EVENT_ID",
    "TRACKING_LOCATION",
    "TRACKING_NUMBER",
    "length_problems",
]

# Codes and identifiers.
SKU = 64
LOCATION_CODE = 64
BIN = 64
BOX = 40  # a box size of a location, as a package names it
DISCOUNT_CODE = 64
CURRENCY = 3  # ISO 4217
CHANNEL = 50
EXTERNAL_ID = 200  # the channel's own id of an order
SERVICE_LEVEL = 30
IDEMPOTENCY_KEY = 255
CARRIER = 40  # a carrier's code, e.g. "acme"
CARRIER_SERVICE = 40  # a carrier service's code, e.g. "ground"
TRACKING_NUMBER = 40
TRACKING_EVENT_ID = 100  # a carrier's id of a tracking event
GATEWAY = 40  # a payment gateway's name
GATEWAY_REFERENCE = 200
BARCODE = 14  # GTIN-14 at most
TIMEZONE = 64
CLOCK_TIME = 5  # "HH:MM"
SLUG = 63  # a tenant's name in its status page's URL (a DNS label's length at most)

# Names and free text.
NAME = 200  # of a tenant, an API key, a location, a carrier service
PRODUCT_NAME = 300
PERSON_NAME = 300
CATEGORY = 200
EMAIL = 320
PHONE = 50
POSTAL_CODE = 20
REFERENCE = 200  # what an inventory movement refers to
TRACKING_LOCATION = 200  # where a carrier saw a parcel
ACTOR = 100  # who did something: "api_key:<uuid>", "user:<name>"

# An address as matched against others: "country|postal code|folded street"
# (``oms.domain.risk.address_key``).
ADDRESS_KEY = 400

# Customs: an HS / tariff code (6 digits internationally, up to 10 nationally, maybe dotted)
# and the plain description a customs form asks for.
HS_CODE = 14
CUSTOMS_DESCRIPTION = 200


def length_problems(
    texts: Iterable[tuple[str, str | None, int]], *, normalised: bool = False
) -> list[FieldError]:
    """A ``FieldError`` for each ``(pointer, text, limit)`` whose text is over its limit;
    ``normalised`` says the text was measured as it is stored, after normalising."""
    found = []
    for pointer, text, limit in texts:
        if text is not None and len(text) > limit:
            detail = f"must be at most {limit} characters"
            if normalised:
                detail += f" once normalised ({len(text)} here)"
            found.append(FieldError(pointer, detail))
    return found
