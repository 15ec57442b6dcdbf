"""API routes whose plain ``def`` functions cross to a worker thread once per request.

FastAPI runs a plain ``def`` route's function in the thread pool and then, in a second
trip, the validation of what it returned against the route's ``response_model``
(``fastapi.routing.serialize_response``): two hand-offs between the event loop and a
worker thread per call, each a wake-up of the other thread and a turn of the GIL. Our
routes' functions call use cases that block on the database, so they must leave the loop,
but their answers are plain objects whose validation is CPU-only work the loop may do.

``OneHopRoute`` (the API routers' ``route_class``) wraps such a function in an ``async
def`` that runs it in the thread pool (``run_in_threadpool``, as FastAPI would) and
returns its answer: FastAPI then sees a coroutine route and validates the answer on the
loop. The wrapper carries the function's signature (``functools.wraps``), so parameters,
dependencies, the OpenAPI document and error answers are what they were.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

__all__ = ["OneHopRoute", "in_worker_thread"]


def in_worker_thread(function: Callable[..., Any]) -> Callable[..., Any]:
    """An ``async def`` with ``function``'s signature that runs it in the thread pool."""

    @functools.wraps(function)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(function, *args, **kwargs)

    return run


class OneHopRoute(APIRoute):
    """An ``APIRoute`` whose plain ``def`` endpoint crosses to a worker thread once."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint) and inspect.isfunction(endpoint):
            endpoint = in_worker_thread(endpoint)
        super().__init__(path, endpoint, **kwargs)
