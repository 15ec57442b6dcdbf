"""What an API worker does in the background at start (``oms.api.app``)."""

from __future__ import annotations

import gc

from oms.api.app import _warm_up
from oms.domain import zip_areas


class _Geocoder:
    def __init__(self) -> None:
        self.warmed = False

    def warm_up(self) -> None:
        self.warmed = True


def test_after_the_warm_up_the_collector_leaves_what_exists_alone() -> None:
    geocoder = _Geocoder()
    zip_areas._areas.cache_clear()
    gc.unfreeze()
    try:
        _warm_up(geocoder)  # type: ignore[arg-type]  # a stand-in
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()

    assert geocoder.warmed
    assert zip_areas._areas.cache_info().currsize == 1  # address verification's ZIP table
    assert frozen > 0
