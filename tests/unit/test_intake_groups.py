"""How POST /v1/orders forms groups (``oms.api.intake_groups``), with a stand-in writer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from oms.api.intake_groups import IntakeGroups
from oms.domain.errors import InvalidRequest
from oms.domain.orders import Actor
from oms.services.intake import LineRequest, PlacedOrder, PlaceOrder
from oms.services.intake_group import Outcome, Submission


def _submission(name: str) -> Submission:
    return Submission(
        tenant_id=uuid4(),
        command=PlaceOrder(currency="EUR", lines=(LineRequest("SKU", 1),), external_id=name),
        actor=Actor("system", "test"),
        at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),  # any moment: only carried along
    )


class Writer:
    """Records each group; holds every write until ``release`` is set. With ``writes``,
    each group says at once that it has reached its writes (as ``place_group`` does once
    its orders are placed); else only when done."""

    def __init__(self, *, fail: bool = False, writes: bool = False) -> None:
        self.groups: list[list[str]] = []
        self.release = threading.Event()
        self.gates: list[threading.Event] = []  # each group's own release, besides ``release``
        self.started = threading.Semaphore(0)
        self.fail = fail
        self.writes = writes

    def __call__(
        self, submissions: Sequence[Submission], on_writing: Callable[[], None]
    ) -> list[Outcome]:
        names = [s.command.external_id or "" for s in submissions]
        self.groups.append(names)
        if self.writes:
            on_writing()
        gate = threading.Event()
        self.gates.append(gate)
        self.started.release()
        for _ in range(500):  # 5 s at most
            if self.release.is_set() or gate.wait(0.01):
                break
        if self.fail:
            raise RuntimeError("the commit failed")
        return [
            InvalidRequest(f"{name} is bad") if name.startswith("bad") else _placed(name)
            for name in names
        ]


def _placed(name: str) -> PlacedOrder:
    return PlacedOrder(order=name, created=True)  # type: ignore[arg-type]  # a stand-in


async def _wait_for_writes(writer: Writer, count: int) -> None:
    for _ in range(count):  # well within the 5 s a held write waits for its release
        assert await asyncio.to_thread(writer.started.acquire, True, 2), "no group started"


def test_a_lone_order_is_written_at_once_in_a_group_of_its_own() -> None:
    writer = Writer()
    writer.release.set()
    groups = IntakeGroups(writer, writers=2, max_size=10)

    placed = asyncio.run(groups.place(_submission("a")))

    assert placed.order == "a"  # type: ignore[comparison-overlap]
    assert writer.groups == [["a"]]


def test_orders_that_arrive_while_groups_are_placed_go_together() -> None:
    writer = Writer()
    groups = IntakeGroups(writer, writers=2, max_size=3)

    async def scenario() -> list[Any]:
        a = asyncio.create_task(groups.place(_submission("a")))
        await _wait_for_writes(writer, 1)  # a lone order goes at once
        b = asyncio.create_task(groups.place(_submission("b")))
        await asyncio.sleep(0.05)
        assert writer.groups == [["a"]]  # b waits for company while a is written
        c = asyncio.create_task(groups.place(_submission("c")))
        await _wait_for_writes(writer, 1)  # ... and goes with c, on the second writer
        later = [asyncio.create_task(groups.place(_submission(n))) for n in "defg"]
        await asyncio.sleep(0.05)
        assert writer.groups == [["a"], ["b", "c"]]  # both writers busy: the rest wait
        writer.release.set()
        return list(await asyncio.gather(a, b, c, *later))

    placed = asyncio.run(scenario())

    assert [p.order for p in placed] == list("abcdefg")
    # In arrival order, at most max_size each; the last one waited for the writers to
    # finish rather than go alone while another group was written.
    assert sorted(writer.groups) == [["a"], ["b", "c"], ["d", "e", "f"], ["g"]]


def test_a_lone_order_waits_for_company_no_longer_than_the_group_being_placed() -> None:
    writer = Writer()
    groups = IntakeGroups(writer, writers=2, max_size=10)

    async def scenario() -> list[Any]:
        a = asyncio.create_task(groups.place(_submission("a")))
        await _wait_for_writes(writer, 1)
        b = asyncio.create_task(groups.place(_submission("b")))
        await asyncio.sleep(0.05)
        assert writer.groups == [["a"]]
        writer.release.set()  # a is written; nobody else came: b goes alone
        return list(await asyncio.gather(a, b))

    placed = asyncio.run(scenario())

    assert [p.order for p in placed] == ["a", "b"]
    assert writer.groups == [["a"], ["b"]]


def test_while_a_group_is_placed_the_next_starts_once_half_a_group_waits() -> None:
    writer = Writer()
    groups = IntakeGroups(writer, writers=2, max_size=10)

    async def scenario() -> list[Any]:
        a = asyncio.create_task(groups.place(_submission("a")))
        await _wait_for_writes(writer, 1)
        waiting = [asyncio.create_task(groups.place(_submission(n))) for n in "bcde"]
        await asyncio.sleep(0.05)
        assert writer.groups == [["a"]]  # four wait: less than half a group of ten
        fifth = asyncio.create_task(groups.place(_submission("f")))
        await _wait_for_writes(writer, 1)  # five: the second writer takes them
        assert writer.groups == [["a"], ["b", "c", "d", "e", "f"]]
        writer.release.set()
        return list(await asyncio.gather(a, *waiting, fifth))

    placed = asyncio.run(scenario())

    assert [p.order for p in placed] == list("abcdef")


def test_once_a_group_writes_the_orders_waiting_start_the_next_at_once() -> None:
    writer = Writer(writes=True)
    groups = IntakeGroups(writer, writers=2, max_size=10)

    async def scenario() -> list[Any]:
        a = asyncio.create_task(groups.place(_submission("a")))
        await _wait_for_writes(writer, 1)  # a is writing (its placing is done)
        await asyncio.sleep(0.05)  # its word reaches the event loop
        b = asyncio.create_task(groups.place(_submission("b")))
        await _wait_for_writes(writer, 1)  # b did not wait for half a group
        assert writer.groups == [["a"], ["b"]]
        c = asyncio.create_task(groups.place(_submission("c")))
        await asyncio.sleep(0.05)
        assert writer.groups == [["a"], ["b"]]  # both writers busy: c waits for one
        writer.release.set()
        return list(await asyncio.gather(a, b, c))

    placed = asyncio.run(scenario())

    assert [p.order for p in placed] == ["a", "b", "c"]
    assert writer.groups == [["a"], ["b"], ["c"]]


async def _a_big_group_answered(groups: IntakeGroups, writer: Writer) -> None:
    """``a`` alone, then ``b`` and ``c`` together (big for a max_size of 8), all answered."""
    a = asyncio.create_task(groups.place(_submission("a")))
    await _wait_for_writes(writer, 1)
    b_and_c = [asyncio.create_task(groups.place(_submission(n))) for n in "bc"]
    await asyncio.sleep(0.05)
    writer.release.set()
    await asyncio.gather(a, *b_and_c)
    assert writer.groups == [["a"], ["b", "c"]]


def test_after_a_big_group_is_answered_the_next_orders_wait_a_little_to_go_together() -> None:
    writer = Writer()
    groups = IntakeGroups(writer, writers=2, max_size=8, linger=5.0)

    async def scenario() -> list[Any]:
        await _a_big_group_answered(groups, writer)
        d = asyncio.create_task(groups.place(_submission("d")))
        await asyncio.sleep(0.05)
        assert writer.groups == [["a"], ["b", "c"]]  # d waits for the callers of b and c
        e = asyncio.create_task(groups.place(_submission("e")))
        return list(await asyncio.gather(d, e))  # as many as b and c: they go at once

    placed = asyncio.run(asyncio.wait_for(scenario(), 2))

    assert [p.order for p in placed] == ["d", "e"]
    assert writer.groups == [["a"], ["b", "c"], ["d", "e"]]


def test_the_wait_for_company_after_a_big_group_ends_after_the_linger() -> None:
    writer = Writer()
    groups = IntakeGroups(writer, writers=2, max_size=8, linger=0.3)

    async def scenario() -> tuple[Any, float]:
        await _a_big_group_answered(groups, writer)
        loop = asyncio.get_running_loop()
        asked = loop.time()
        placed = await groups.place(_submission("d"))  # nobody else comes
        return placed, loop.time() - asked

    placed, waited = asyncio.run(asyncio.wait_for(scenario(), 2))

    assert placed.order == "d"
    assert writer.groups == [["a"], ["b", "c"], ["d"]]
    assert waited >= 0.25  # it waited for company (the linger), and then went alone


def test_while_a_big_group_is_written_fewer_orders_wait_for_its_answers() -> None:
    writer = Writer()
    groups = IntakeGroups(writer, writers=2, max_size=8, linger=5.0)

    async def scenario() -> list[Any]:
        a = asyncio.create_task(groups.place(_submission("a")))
        await _wait_for_writes(writer, 1)  # a is being placed: b and c wait for it
        b_and_c = [asyncio.create_task(groups.place(_submission(n))) for n in "bc"]
        await asyncio.sleep(0.05)
        writer.writes = True
        writer.gates[0].set()  # a is answered: b and c go, and write at once
        await _wait_for_writes(writer, 1)
        await asyncio.sleep(0.05)  # their word that they write reaches the event loop
        d = asyncio.create_task(groups.place(_submission("d")))
        await asyncio.sleep(0.05)
        # A writer is free and nothing is being placed, yet d waits for b and c's answers.
        assert writer.groups == [["a"], ["b", "c"]]
        writer.gates[1].set()  # b and c are answered: d waits for their callers a little
        await asyncio.sleep(0.05)
        assert writer.groups == [["a"], ["b", "c"]]
        e = asyncio.create_task(groups.place(_submission("e")))
        await asyncio.sleep(0.05)
        assert writer.groups == [["a"], ["b", "c"]]  # d, and b and c's callers, are awaited
        f = asyncio.create_task(groups.place(_submission("f")))
        writer.release.set()
        return list(await asyncio.gather(a, *b_and_c, d, e, f))

    placed = asyncio.run(asyncio.wait_for(scenario(), 2))

    assert [p.order for p in placed] == list("abcdef")
    assert writer.groups == [["a"], ["b", "c"], ["d", "e", "f"]]


def test_without_a_linger_an_order_after_a_big_group_goes_at_once() -> None:
    writer = Writer()
    groups = IntakeGroups(writer, writers=2, max_size=8)

    async def scenario() -> Any:
        await _a_big_group_answered(groups, writer)
        return await groups.place(_submission("d"))

    assert asyncio.run(asyncio.wait_for(scenario(), 0.5)).order == "d"
    assert writer.groups == [["a"], ["b", "c"], ["d"]]


def test_each_caller_hears_its_own_outcome_and_a_failed_group_reaches_all_its_callers() -> None:
    writer = Writer()
    writer.release.set()
    groups = IntakeGroups(writer, writers=1, max_size=10)

    async def mixed() -> list[Any]:
        names = ("ok-1", "bad-1", "ok-2")
        tasks = [groups.place(_submission(n)) for n in names]
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    ok_1, bad_1, ok_2 = asyncio.run(mixed())
    assert isinstance(ok_1, PlacedOrder)
    assert isinstance(ok_2, PlacedOrder)
    assert isinstance(bad_1, InvalidRequest)

    failing = Writer(fail=True)
    failing.release.set()
    broken = IntakeGroups(failing, writers=1, max_size=10)

    async def all_fail() -> list[Any]:
        tasks = [broken.place(_submission(n)) for n in ("x", "y")]
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    answers = asyncio.run(all_fail())
    assert [type(a) for a in answers] == [RuntimeError, RuntimeError]
    # The groups go on after a failure: the next order is written.
    failing.fail = False
    assert asyncio.run(broken.place(_submission("z"))).order == "z"  # type: ignore[comparison-overlap]


def test_a_caller_that_goes_away_leaves_its_order_in_the_group() -> None:
    writer = Writer()
    groups = IntakeGroups(writer, writers=1, max_size=10)

    async def scenario() -> Any:
        busy = asyncio.create_task(groups.place(_submission("a")))
        await _wait_for_writes(writer, 1)
        leaving = asyncio.create_task(groups.place(_submission("gone")))
        staying = asyncio.create_task(groups.place(_submission("stays")))
        await asyncio.sleep(0.01)
        leaving.cancel()
        writer.release.set()
        return await asyncio.gather(busy, staying)

    busy, staying = asyncio.run(scenario())

    assert (busy.order, staying.order) == ("a", "stays")
    assert writer.groups == [["a"], ["gone", "stays"]]


def test_groups_need_a_writer_and_room_for_an_order() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        IntakeGroups(Writer(), writers=0, max_size=1)
    with pytest.raises(ValueError, match="at least 1"):
        IntakeGroups(Writer(), writers=1, max_size=0)
    with pytest.raises(ValueError, match="not negative"):
        IntakeGroups(Writer(), writers=1, max_size=8, linger=-0.001)
