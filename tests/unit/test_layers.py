"""The layers' dependencies point inward (docs/ARCHITECTURE: api, cli -> services -> domain;
adapters implement the ports services declare): every import in the source, at any depth
(inside functions and ``TYPE_CHECKING`` blocks too), is checked."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "oms"

# What the pure domain never imports: frameworks and anything that does I/O.
_FRAMEWORKS = (
    "alembic",
    "anyio",
    "fastapi",
    "httpx",
    "itsdangerous",
    "psycopg",
    "pydantic",
    "pydantic_settings",
    "pypdf",
    "reportlab",
    "sqlalchemy",
    "starlette",
    "typer",
    "uvicorn",
)


def _modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports, with its line: ``from a.b import c`` gives ``a.b.c``
    and ``a.b`` (whether ``c`` is a module or a name is not the question here)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _offences(package: str, allowed_oms: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in _modules(package):
        for line, name in _imports(path):
            outer_oms = _within(name, ("oms",)) and not _within(name, allowed_oms)
            if outer_oms or _within(name, forbidden):
                found.append(f"{path.relative_to(SRC.parent)}:{line} imports {name}")
    return sorted(set(found))


def test_the_walk_sees_imports_at_every_depth(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import oms.adapters.db\n"
        "def f():\n    from oms.api import app\n"
    )

    names = {name for _, name in _imports(module)}

    assert {"oms.adapters.db", "oms.api", "oms.api.app"} <= names


def test_services_import_only_the_domain_and_services() -> None:
    assert _offences("services", ("oms.domain", "oms.services"), ()) == []


def test_the_domain_imports_only_itself_and_no_framework() -> None:
    assert _offences("domain", ("oms.domain",), _FRAMEWORKS) == []


@pytest.mark.parametrize("package", ["domain", "services"])
def test_each_layer_has_modules_to_check(package: str) -> None:
    assert len(_modules(package)) > 5


def test_routers_reach_adapters_only_through_services() -> None:
    found = [
        f"{path.relative_to(SRC.parent)}:{line} imports {name}"
        for path in _modules("api/routers")
        for line, name in _imports(path)
        if _within(name, ("oms.adapters",))
    ]

    assert found == []
