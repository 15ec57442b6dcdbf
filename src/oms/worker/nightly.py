"""The worker's nightly job beside its deliveries: ``oms.services.nightly.run_nightly``
checked every ``--nightly-seconds`` on a thread of its own, so that an hour of forecasting
never holds webhooks up; a check while the last one still runs is skipped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["InBackground"]

log = logging.getLogger("oms.worker")


class InBackground:
    """Calls ``job`` on a thread when called, unless its last call is still running."""

    def __init__(self, job: Callable[[], object], *, name: str) -> None:
        self._job = job
        self._name = name
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        try:
            self._job()
        except Exception:  # logged; the next check tries again
            log.exception("%s failed", self._name)

    def __call__(self) -> bool:
        """Start the job; False (and nothing started) while the last run goes on."""
        if self._thread is not None and self._thread.is_alive():
            return False
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        return True

    def join(self, timeout: float | None = None) -> None:
        """Wait for the run in progress, if any."""
        if self._thread is not None:
            self._thread.join(timeout)
