"""What an API worker does at start, before it listens (``oms.api.app``)."""

from __future__ import annotations

import gc
import time
from pathlib import Path

import anyio
import pytest

from oms.api import app as app_module
from oms.api.app import _warm_up
from oms.config import Environment, Settings
from oms.domain import zip_areas
from tests.api.support import TestClient


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


class _BuildingGeocoder:
    """A stand-in whose build makes many long-lived containers, as the real indexes do."""

    def __init__(self) -> None:
        self.index: list[list[int]] = []

    def warm_up(self) -> None:
        self.index = [[n] for n in range(200_000)]


def test_the_warm_up_collects_once_not_while_its_indexes_grow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Walking the indexes while they grow finds nothing to free: one collection at the end
    # frees what the build left behind, before the freeze.
    monkeypatch.setattr(zip_areas, "warm_up", lambda: None)
    collections: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    assert gc.isenabled()
    gc.unfreeze()
    gc.callbacks.append(record)
    try:
        _warm_up(_BuildingGeocoder())  # type: ignore[arg-type]  # a stand-in
    finally:
        gc.callbacks.remove(record)
        gc.unfreeze()

    assert collections == [2]
    assert gc.isenabled()


def test_a_worker_has_warmed_up_before_it_starts_serving(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # uvicorn listens once the lifespan's startup is done: the warm-up must be over by then.
    warmed: list[object] = []

    def warm_up(geocoder: object) -> None:
        time.sleep(0.05)  # a build that takes a while (in a thread it would still be going)
        warmed.append(geocoder)

    monkeypatch.setattr(app_module, "_warm_up", warm_up)
    built: list[object] = []
    monkeypatch.setattr(app_module, "build_routes", built.append)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'oms.db'}",
        environment=Environment.DEVELOPMENT,
        db_analyze_seconds=0,
    )
    app = app_module.create_app(settings)

    async def warmed_at_start() -> tuple[int, int]:
        async with app.router.lifespan_context(app):
            return len(warmed), len(built)

    assert anyio.run(warmed_at_start) == (1, 1)


def test_routes_built_ahead_still_answer(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'oms.db'}", environment=Environment.TEST
    )
    app = app_module.create_app(settings)
    app_module.build_routes(app)
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/v1/no-such-route").status_code == 404
