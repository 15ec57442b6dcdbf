"""The table of ``oms serve``'s workers and their open connections, in shared memory.

A few bytes the parent creates (``ConnectionTable.create``) and hands to each worker with its
socket (``oms.api.connection_balance``). A worker claims a row with a record lock on its first
byte, which the kernel drops when the worker's process ends, however it ends; only that
worker writes its row (its pid, its open connections, when it last checked in), and the
others only read it. Each field is one aligned 8-byte integer, written and read whole.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import tempfile
from dataclasses import dataclass
from multiprocessing.reduction import DupFd
from typing import Any

__all__ = ["TABLE_NAME", "ConnectionTable", "WorkerRow", "server_table"]

TABLE_NAME = "oms-serve-connections"  # the shared memory's name (/proc/PID/fd shows it)
_FIELDS = 3  # per row: pid (0: free), open connections, last check-in (monotonic µs)
_CELL = 8  # bytes per field


@dataclass(frozen=True)
class WorkerRow:
    """One worker's row of the table: its pid, its open connections, and when it last
    checked in (``time.monotonic`` seconds, the same clock in every process)."""

    pid: int
    connections: int
    seen: float


class ConnectionTable:
    """The workers' open connections, one row per worker, in memory the processes share.

    ``rows`` bounds how many workers can be balanced at once (a worker that finds no free
    row accepts without balancing); a row is claimed with a record lock on its first byte.
    """

    def __init__(self, fd: int, rows: int) -> None:
        self._fd = fd
        self.rows = rows
        self._map = mmap.mmap(fd, rows * _FIELDS * _CELL)
        self._cells = memoryview(self._map).cast("q")
        self._held: set[int] = set()  # rows this process claimed (record locks do not
        # keep a process's own acceptors apart: a process never conflicts with itself)

    @classmethod
    def create(cls, rows: int) -> ConnectionTable:
        """A new table of ``rows`` free rows, in anonymous shared memory."""
        if hasattr(os, "memfd_create"):
            fd = os.memfd_create(TABLE_NAME)
        else:  # pragma: no cover - systems without memfd (macOS, the BSDs)
            with tempfile.TemporaryFile() as unnamed:
                fd = os.dup(unnamed.fileno())
        os.ftruncate(fd, rows * _FIELDS * _CELL)
        return cls(fd, rows)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # uvicorn passes a worker its sockets (and this with them) by pickling them as it
        # starts the worker, which gets a copy of the descriptor.
        return _attach_table, (DupFd(self._fd), self.rows)

    def claim(self, pid: int, now: float) -> int | None:
        """A free row for worker ``pid``, claimed (None: every row is taken)."""
        for row in range(self.rows):
            if row in self._held:
                continue
            try:
                fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, row * _FIELDS * _CELL)
            except OSError:
                continue  # a live worker's
            self._held.add(row)
            self.write(row, pid=pid, connections=0, now=now)
            return row
        return None

    def write(self, row: int, *, pid: int, connections: int, now: float) -> None:
        """Row ``row``'s fields (only its claimant writes them)."""
        at = row * _FIELDS
        self._cells[at] = pid
        self._cells[at + 1] = connections
        self._cells[at + 2] = int(now * 1_000_000)

    def release(self, row: int) -> None:
        """Free row ``row``: cleared, and its lock let go."""
        at = row * _FIELDS
        self._cells[at : at + _FIELDS] = memoryview(bytes(_FIELDS * _CELL)).cast("q")
        self._held.discard(row)
        fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, row * _FIELDS * _CELL)

    def forget(self, pid: int) -> None:
        """Clear the row of worker ``pid``, which has ended (its supervisor reaped it).

        Its lock went with its process; a worker that claimed the row meanwhile rewrites it
        at its next check-in."""
        for row in range(self.rows):
            at = row * _FIELDS
            if self._cells[at] == pid:
                self._cells[at : at + _FIELDS] = memoryview(bytes(_FIELDS * _CELL)).cast("q")

    def others(self, row: int, *, since: float) -> list[int]:
        """The open connections of the workers other than ``row``'s that checked in at
        ``since`` or later (``time.monotonic`` seconds)."""
        cells = self._cells
        fresh_since = int(since * 1_000_000)
        found = []
        for other in range(self.rows):
            at = other * _FIELDS
            if other != row and cells[at] != 0 and cells[at + 2] >= fresh_since:
                found.append(cells[at + 1])
        return found

    def claimed(self) -> list[WorkerRow]:
        """The claimed rows as they are now (a worker that died keeps its row until another
        worker claims it; its check-ins stop)."""
        return _rows(self._map[:])

    def close(self) -> None:
        self._cells.release()
        self._map.close()
        os.close(self._fd)


def _attach_table(dup: Any, rows: int) -> ConnectionTable:
    return ConnectionTable(dup.detach(), rows)


def _rows(data: bytes) -> list[WorkerRow]:
    cells = memoryview(data).cast("q")
    return [
        WorkerRow(pid=cells[at], connections=cells[at + 1], seen=cells[at + 2] / 1_000_000)
        for at in range(0, len(cells) - _FIELDS + 1, _FIELDS)
        if cells[at] != 0
    ]


def server_table(server_pid: int) -> list[WorkerRow] | None:
    """The claimed rows of the table of the ``oms serve`` whose parent process is
    ``server_pid``, read through ``/proc`` (Linux); None if it has no table.

    For tests, benchmarks and operators: how many connections each worker holds."""
    try:
        entries = list(os.scandir(f"/proc/{server_pid}/fd"))
    except OSError:
        return None
    for entry in entries:
        try:
            if os.readlink(entry.path).startswith(f"/memfd:{TABLE_NAME}"):
                with open(entry.path, "rb") as table:
                    return _rows(table.read())
        except OSError:
            continue
    return None
