"""How ``oms serve``'s supervisor judges its workers (``oms.api.serving``)."""

from __future__ import annotations

import pytest
from uvicorn.config import STARTUP_FAILURE

from oms.api.serving import WorkerWatch, how_a_worker_ended

GRACE = 120.0
LIMIT = 30.0


def _hung(watch: WorkerWatch, now: float) -> str | None:
    return watch.hung(now, startup_grace=GRACE, silence_limit=LIMIT)


@pytest.mark.parametrize("silent_for", [0.0, 5.5, 30.0, GRACE])
def test_a_starting_worker_has_the_whole_grace_to_answer_its_first_ping(silent_for: float) -> None:
    watch = WorkerWatch(started_at=1_000.0, pinged_at=1_000.0)

    assert _hung(watch, 1_000.0 + silent_for) is None


def test_a_starting_worker_silent_past_the_grace_is_hung() -> None:
    watch = WorkerWatch(started_at=1_000.0, pinged_at=1_000.5)

    reason = _hung(watch, 1_000.0 + GRACE + 0.5)

    assert reason == f"did not answer a health check within {GRACE:g} s of starting"


@pytest.mark.parametrize("silent_for", [0.0, 5.5, LIMIT])
def test_a_worker_that_answered_may_leave_a_ping_unanswered_up_to_the_limit(
    silent_for: float,
) -> None:
    watch = WorkerWatch(started_at=0.0)
    watch.answered(10.0)
    watch.pinged_at = 10.5

    assert _hung(watch, 10.5 + silent_for) is None


def test_a_worker_that_answered_and_then_went_silent_past_the_limit_is_hung() -> None:
    watch = WorkerWatch(started_at=0.0)
    watch.answered(10.0)
    watch.pinged_at = 10.5

    assert _hung(watch, 10.5 + LIMIT + 12) == "left a health check unanswered for 42 s"


def test_an_answer_clears_the_ping_in_flight_so_silence_counts_from_the_next_ping() -> None:
    watch = WorkerWatch(started_at=0.0, pinged_at=1.0)
    watch.answered(200.0)  # late, but within the start-up grace

    assert watch.pinged_at is None
    assert _hung(watch, 200.0 + LIMIT * 10) is None  # no ping in flight: nothing unanswered


@pytest.mark.parametrize(
    ("exitcode", "said"),
    [
        (-9, "was killed by SIGKILL (the kernel's out-of-memory killer sends it too)"),
        (-15, "was killed by SIGTERM"),
        (-11, "was killed by SIGSEGV"),
        (1, "exited with code 1"),
        (0, "exited with code 0"),
        (STARTUP_FAILURE, "failed to start (exit code 3; its error is logged above)"),
        (None, "ended (exit code unknown)"),
    ],
)
def test_the_log_says_how_a_worker_ended(exitcode: int | None, said: str) -> None:
    assert how_a_worker_ended(exitcode) == said
