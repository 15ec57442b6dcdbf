"""What every ``oms`` command shares: settings, the database, and errors as one line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer

if TYPE_CHECKING:  # imported where used: a worker of `oms serve` imports the CLI before it
    # can answer its supervisor's health checks (oms.api.serving)
    from oms.adapters.db.uow import SqlUnitOfWorkFactory
    from oms.config import Settings

__all__ = ["database", "fail", "guard", "load_settings", "read_file"]

T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    """End the command with ``message`` as one line on stderr and exit ``code``."""
    typer.echo("oms: " + " ".join(message.split()), err=True)
    raise typer.Exit(code)


def load_settings() -> Settings:
    """The settings from OMS_* variables; a bad one ends the command in one line."""
    from pydantic import ValidationError

    from oms.config import Settings

    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        where = "OMS_" + "_".join(str(p) for p in first["loc"]).upper()
        message = str(first["msg"]).removeprefix("Value error, ")
        fail(f"bad configuration: {where}: {message}")


@contextmanager
def database(settings: Settings) -> Iterator[SqlUnitOfWorkFactory]:
    """A unit-of-work factory on a fresh engine, disposed when the command ends."""
    from oms.adapters.db.engine import build_engine
    from oms.adapters.db.uow import SqlUnitOfWorkFactory

    engine = build_engine(settings)
    try:
        yield SqlUnitOfWorkFactory(engine)
    finally:
        engine.dispose()


def guard(action: Callable[[], T]) -> T:
    """Run ``action``; a deliberate error becomes one line on stderr and exit code 1."""
    from sqlalchemy.exc import OperationalError

    from oms.domain.errors import InvalidRequest, OmsError

    try:
        return action()
    except InvalidRequest as error:
        first = error.errors[0] if error.errors else None
        more = f" (and {len(error.errors) - 1} more)" if len(error.errors) > 1 else ""
        detail = "" if first is None else " ".join(first.detail.split())
        where = "" if first is None else f": {first.pointer}: {detail}{more}"
        fail(f"{error.detail}{where}")
    except OmsError as error:
        fail(error.detail)
    except OperationalError as error:
        fail(f"database unavailable: {str(error.orig).strip().splitlines()[0]}")


def read_file(path: Path) -> str:
    """The text of ``path``; one that cannot be read ends the command (exit 2)."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}", 2)
