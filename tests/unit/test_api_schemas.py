"""Every request body refuses text holding NUL, whatever its field's own rules."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import oms.api.routers
import oms.api.schemas
from oms.api.schemas.common import NUL_FREE, Strict


def _strict_models() -> list[type[Strict]]:
    for package in (oms.api.schemas, oms.api.routers):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")

    def below(cls: type[Strict]) -> Iterator[type[Strict]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    return sorted(set(below(Strict)), key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def _text_schemas(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(node, dict):
        if node.get("type") == "str":
            yield path, node
        for key, value in node.items():
            yield from _text_schemas(value, (*path, key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _text_schemas(value, (*path, n))


MODELS = _strict_models()


def test_the_request_models_are_found() -> None:
    names = {model.__name__ for model in MODELS}
    assert {"OrderCreate", "AddressIn", "LineIn", "ProductCreate"} <= names


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_every_text_schema_of_a_request_model_refuses_nul(model: type[BaseModel]) -> None:
    texts = list(_text_schemas(model.__pydantic_core_schema__))
    for path, schema in texts:
        pattern = schema.get("pattern")
        assert pattern is not None, f"{model.__name__}: text at {path} has no pattern"
        assert re.search(pattern, "A\x00") is None, f"{model.__name__}: {path} admits NUL"


def test_a_nul_anywhere_in_an_order_is_refused_at_its_field() -> None:
    from oms.api.schemas.orders import OrderCreate

    body = {
        "currency": "EUR",
        "lines": [{"sku": "TEE", "quantity": 1}],
        "shipping_address": {"country": "NL", "city": "Rotter\x00dam"},
        "tags": ["ok", "\x00"],
    }
    with pytest.raises(ValidationError) as raised:
        OrderCreate.model_validate(body)

    assert sorted(e["loc"] for e in raised.value.errors()) == [
        ("shipping_address", "city"),
        ("tags", 1),
    ]


def test_the_nul_pattern_stays_out_of_the_published_schema() -> None:
    from oms.api.schemas.orders import OrderCreate

    assert NUL_FREE not in str(OrderCreate.model_json_schema())
