"""The API's plain ``def`` routes cross to a worker thread once per request: the function
runs in the thread pool, its answer is validated on the event loop (FastAPI alone would
make a second trip for the validation), and the OpenAPI document is what it was."""

from __future__ import annotations

import asyncio
import threading

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, field_validator
from starlette.testclient import TestClient

from oms.api.app import create_app
from oms.api.one_hop import OneHopRoute
from oms.config import Environment, Settings

seen: dict[str, int] = {}


class Answer(BaseModel):
    value: int

    @field_validator("value")
    @classmethod
    def _where(cls, value: int) -> int:
        seen["validated"] = threading.get_ident()
        return value


async def _loop_thread() -> int:
    seen["loop"] = threading.get_ident()
    return 1


def _app(route_class: type[APIRoute]) -> FastAPI:
    router = APIRouter(route_class=route_class)

    @router.get("/things/{thing}", response_model=Answer)
    def read_thing(thing: int, one: int = Depends(_loop_thread)) -> dict[str, int]:
        """A plain ``def`` route, as the API's are."""
        seen["function"] = threading.get_ident()
        return {"value": thing + one}

    app = FastAPI()
    app.include_router(router)
    return app


def test_the_function_runs_in_a_worker_thread_and_its_answer_is_validated_on_the_loop() -> None:
    seen.clear()
    with TestClient(_app(OneHopRoute)) as client:
        answer = client.get("/things/41")
        bad = client.get("/things/many")

    assert answer.status_code == 200
    assert answer.json() == {"value": 42}
    assert seen["function"] != seen["loop"]
    assert seen["validated"] == seen["loop"]
    assert bad.status_code == 422  # the parameters are the function's, as before


def test_without_it_fastapi_validates_in_a_worker_thread() -> None:
    seen.clear()
    with TestClient(_app(APIRoute)) as client:
        assert client.get("/things/1").status_code == 200

    assert seen["validated"] != seen["loop"]  # the second trip the route class saves


def test_the_openapi_document_is_the_same_with_either_route_class() -> None:
    assert _app(OneHopRoute).openapi() == _app(APIRoute).openapi()


def test_every_api_route_with_a_plain_function_goes_through_one_hop(tmp_path: object) -> None:
    app = create_app(Settings(database_url="sqlite://", environment=Environment.TEST))
    plain = [
        route.path for route in _api_routes(app) if not asyncio.iscoroutinefunction(route.endpoint)
    ]
    others = [route.path for route in _api_routes(app) if not isinstance(route, OneHopRoute)]

    assert plain == []  # wrapped: the endpoint FastAPI sees is a coroutine
    assert others == []


def _api_routes(app: FastAPI) -> list[APIRoute]:
    return [
        route
        for route in _flatten(app.routes)
        if isinstance(route, APIRoute) and route.path.startswith("/v1/")
    ]


def _flatten(routes: list[object]) -> list[object]:
    found: list[object] = []
    for route in routes:
        inner = getattr(route, "routes", None) or getattr(
            getattr(route, "router", None), "routes", None
        )
        found.extend(_flatten(inner) if inner else [route])
    return found
