"""The cyclic collector held off while intake groups are placed, and set back as found."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest

from oms.services.collector_pause import MOST_PAUSED_SECONDS, collector_paused


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_waits_inside_and_runs_again_after() -> None:
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_runs_again_after_an_error_inside() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("placing failed")
    assert gc.isenabled()


def test_a_collector_turned_off_elsewhere_stays_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_the_collector_waits_until_the_last_of_several_threads_is_done() -> None:
    gc.enable()
    inside = threading.Barrier(2)
    first_done = threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with collector_paused():
            inside.wait()
        first_done.set()

    def second() -> None:
        with collector_paused():
            inside.wait()
            first_done.wait()
            seen.append(gc.isenabled())  # the first left; this one is still inside

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [False]
    assert gc.isenabled()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_overlapping_groups_cannot_keep_the_collector_off_for_longer_than_the_bound() -> None:
    gc.enable()
    now = [100.0]
    with collector_paused(clock=lambda: now[0]):  # a group that stays inside throughout
        garbage = _Cycle()
        gone = weakref.ref(garbage)
        del garbage
        with collector_paused(clock=lambda: now[0]):  # another ends before the bound
            pass
        assert gone() is not None  # the cycle waits: nothing collected yet
        assert not gc.isenabled()
        now[0] += MOST_PAUSED_SECONDS
        with collector_paused(clock=lambda: now[0]):  # one that ends past the bound
            pass
        assert gone() is None  # collected once, though a group is still inside
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_turned_off_elsewhere_is_never_run_by_the_bound() -> None:
    gc.disable()
    now = [0.0]
    with collector_paused(clock=lambda: now[0]):
        garbage = _Cycle()
        gone = weakref.ref(garbage)
        del garbage
        now[0] += 10 * MOST_PAUSED_SECONDS
        with collector_paused(clock=lambda: now[0]):
            pass
        assert gone() is not None
    gc.collect()
