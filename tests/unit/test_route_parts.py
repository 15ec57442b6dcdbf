"""An app reuses what an earlier app of the process built for the same included routes
(``oms.api.route_parts``), and answers as an app that built them itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Header
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import _EffectiveRouteContext, _IncludedRouter
from pydantic import BaseModel

from oms.api import route_parts
from oms.api.app import build_routes, create_app
from oms.api.route_parts import share_route_parts
from tests.api.support import TestClient, api_settings_for


def _contexts(app: FastAPI) -> dict[tuple[str, str], _EffectiveRouteContext]:
    """Every included route of ``app``, built, by path and methods."""
    build_routes(app)
    found: dict[tuple[str, str], _EffectiveRouteContext] = {}
    for route in app.router.routes:
        if isinstance(route, _IncludedRouter):
            for context in route.effective_route_contexts():
                found[(context.path_format, ",".join(sorted(context.methods)))] = context
    return found


def _field_shape(field: Any) -> tuple[Any, ...] | None:
    if field is None:
        return None
    return (
        field.name,
        field.alias,
        field.mode,
        field.field_info.is_required(),
        repr(field.field_info.annotation),
    )


def _shape(dependant: Dependant) -> tuple[Any, ...]:
    """What a dependency tree asks of a request, as plain values to compare."""
    return (
        dependant.call,
        dependant.name,
        dependant.path,
        [_field_shape(f) for f in dependant.path_params],
        [_field_shape(f) for f in dependant.query_params],
        [_field_shape(f) for f in dependant.header_params],
        [_field_shape(f) for f in dependant.cookie_params],
        [_field_shape(f) for f in dependant.body_params],
        dependant.request_param_name,
        dependant.response_param_name,
        dependant.use_cache,
        [_shape(sub) for sub in dependant.dependencies],
    )


def test_an_app_built_after_another_reuses_its_routes_dependency_trees(tmp_path: Path) -> None:
    settings = api_settings_for(f"sqlite:///{tmp_path / 'oms.db'}")
    first = _contexts(create_app(settings))
    second = _contexts(create_app(settings))

    assert first.keys() == second.keys()
    assert len(first) > 200  # the API's, the public pages' and the portal's routes
    for key, context in second.items():
        assert context.dependant is first[key].dependant, key
        assert context.response_field is first[key].response_field, key
        assert context.app is not first[key].app  # each app's own handler


def test_an_app_on_shared_route_parts_asks_and_documents_what_one_built_alone_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = api_settings_for(f"sqlite:///{tmp_path / 'oms.db'}")
    _contexts(create_app(settings))  # the parts built, if no test built them before
    shared = create_app(settings)
    shared_contexts = _contexts(shared)
    with monkeypatch.context() as unshared:  # FastAPI's own building: every part anew
        unshared.setattr(
            fastapi_routing,
            "_build_dependant_with_parameterless_dependencies",
            route_parts._build_dependant,
        )
        unshared.setattr(fastapi_routing, "create_model_field", route_parts._create_model_field)
        alone = create_app(settings)
        alone_contexts = _contexts(alone)

    assert alone_contexts.keys() == shared_contexts.keys()
    for key, context in shared_contexts.items():
        built = alone_contexts[key]
        assert context.dependant is not None, key
        assert built.dependant is not None, key
        assert context.dependant is not built.dependant, key
        assert _shape(context.dependant) == _shape(built.dependant), key
        assert _field_shape(context.body_field) == _field_shape(built.body_field), key
        assert _field_shape(context.response_field) == _field_shape(built.response_field), key
        assert context.response_fields.keys() == built.response_fields.keys(), key
        assert context.unique_id == built.unique_id, key
    assert shared.openapi() == alone.openapi()


class _Item(BaseModel):
    id: int
    owner: str | None


class _Missing(BaseModel):
    detail: str


def _owner(x_owner: str | None = Header(default=None)) -> str | None:
    return x_owner


def _record_shop(shop: str) -> None:
    pass


def _three_apps(router: APIRouter) -> tuple[FastAPI, FastAPI, FastAPI]:
    """``router`` included at a path with a parameter and a dependency of its own, and
    twice at a plain one."""
    by_shop = FastAPI()
    by_shop.include_router(router, prefix="/shops/{shop}", dependencies=[Depends(_record_shop)])
    plain = FastAPI()
    plain.include_router(router)
    again = FastAPI()
    again.include_router(router)
    return by_shop, plain, again


def test_a_router_included_at_other_paths_and_dependencies_gets_trees_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # None of the apps may answer or document with another's parameters or names.
    share_route_parts()
    router = APIRouter(dependencies=[Depends(_owner)])

    @router.get("/items/{item_id}", responses={404: {"model": _Missing}})
    def item(item_id: int, owner: str | None = Depends(_owner)) -> _Item:
        return _Item(id=item_id, owner=owner)

    by_shop, plain, again = _three_apps(router)
    with TestClient(by_shop) as client:
        answer = client.get("/shops/s1/items/7", headers={"x-owner": "ann"})
        assert answer.json() == {"id": 7, "owner": "ann"}
        assert client.get("/shops/s1/items/x").status_code == 422
    with TestClient(plain) as client:
        assert client.get("/items/8").json() == {"id": 8, "owner": None}
        assert client.get("/shops/s1/items/7").status_code == 404
    with TestClient(again) as client:
        assert client.get("/items/9", headers={"x-owner": "bo"}).json() == {"id": 9, "owner": "bo"}
        again.dependency_overrides[_owner] = lambda: "stand-in"  # this app's own overrides
        assert client.get("/items/9").json() == {"id": 9, "owner": "stand-in"}
    with TestClient(plain) as client:
        assert client.get("/items/8").json() == {"id": 8, "owner": None}

    by_shop_tree = _contexts(by_shop)[("/shops/{shop}/items/{item_id}", "GET")].dependant
    plain_tree = _contexts(plain)[("/items/{item_id}", "GET")].dependant
    again_tree = _contexts(again)[("/items/{item_id}", "GET")].dependant
    assert by_shop_tree is not plain_tree
    assert again_tree is plain_tree
    with monkeypatch.context() as unshared:  # FastAPI's own building, every part anew
        unshared.setattr(
            fastapi_routing,
            "_build_dependant_with_parameterless_dependencies",
            route_parts._build_dependant,
        )
        unshared.setattr(fastapi_routing, "create_model_field", route_parts._create_model_field)
        alone = _three_apps(router)
        for app in alone:
            _contexts(app)
    assert [app.openapi() for app in (by_shop, plain, again)] == [app.openapi() for app in alone]
