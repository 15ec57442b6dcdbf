"""Which US state or territory a ZIP code belongs to, from the ``zipcodes`` package's data.

US ZIP codes serve the states and DC, the territories and the freely associated states
(``ZIP_TERRITORIES``: ISO countries of their own, which a US address may also name as its
region), and the armed forces abroad (AA, AE, AP). Verification runs on every order, so
the table (ZIP code -> state or territory code) is built once per process, on first use
or by ``warm_up``, and a lookup is then one dictionary probe. The data ships inside the
package: nothing is read from the network.
"""

from __future__ import annotations

import sys
from functools import cache

import zipcodes

__all__ = ["ZIP_TERRITORIES", "warm_up", "zip_area"]

# Places outside the 50 states and DC that use US ZIP codes, by ISO 3166-1 code.
ZIP_TERRITORIES = {
    "PR": "Puerto Rico",
    "GU": "Guam",
    "VI": "Virgin Islands",
    "AS": "American Samoa",
    "MP": "Northern Mariana Islands",
    "FM": "Micronesia",
    "MH": "Marshall Islands",
    "PW": "Palau",
}


def zip_area(postal_code: str) -> str | None:
    """The state or territory code of a ZIP code (its first five digits; ZIP+4 allowed),
    or None when the data does not know it."""
    return _areas().get(postal_code[:5])


def warm_up() -> None:
    """Build the table now, so that no order waits for it."""
    _areas()


@cache
def _areas() -> dict[str, str]:
    # By first digit rather than all at once: the package makes a dict per ZIP code, and
    # ten slices of them at a time keep the peak memory of the build low.
    areas: dict[str, str] = {}
    for digit in "0123456789":
        for row in zipcodes.similar_to(digit):  # type: ignore[no-untyped-call]  # unannotated
            areas[str(row["zip_code"])] = sys.intern(str(row["state"]))
    return areas
