"""The worker's nightly job runs on a thread of its own, never two at once."""

from __future__ import annotations

import threading

from oms.worker.nightly import InBackground


def test_a_check_while_the_last_run_goes_on_starts_nothing() -> None:
    release = threading.Event()
    runs: list[int] = []

    def job() -> None:
        runs.append(1)
        release.wait(5)

    background = InBackground(job, name="test-nightly")
    assert background() is True
    assert background() is False  # still running
    release.set()
    background.join(5)
    assert background() is True
    background.join(5)
    assert len(runs) == 2


def test_a_failing_run_is_logged_and_the_next_check_runs_again() -> None:
    calls: list[int] = []

    def job() -> None:
        calls.append(1)
        raise RuntimeError("boom")

    background = InBackground(job, name="test-nightly")
    background()
    background.join(5)
    background()
    background.join(5)
    assert len(calls) == 2
