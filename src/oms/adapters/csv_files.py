"""CSV files: the row-level error report of an import, and an export's rows written.

(Reading is ``oms.services.csv_source``.) The error report is written next to the input as
``FILE.errors.csv`` (``row,column,message``) as errors come; a run without errors removes
an earlier run's report, so a report on disk always belongs to the last run.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO

from oms.services.import_rows import RowError

__all__ = ["ErrorReport", "error_report_path", "write_rows"]


def error_report_path(source: Path) -> Path:
    """Where the error report of ``source`` goes: beside it, ``NAME.errors.csv``."""
    return source.with_name(source.name + ".errors.csv")


class ErrorReport:
    """The row-level error report of one run, opened at its first error."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._file: IO[str] | None = None
        self._writer: csv.DictWriter[str] | None = None

    def add(self, error: RowError) -> None:
        if self._writer is None:
            self._file = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.DictWriter(self._file, fieldnames=["row", "column", "message"])
            self._writer.writeheader()
        self._writer.writerow({"row": error.row, "column": error.column, "message": error.message})
        self.count += 1

    def __enter__(self) -> ErrorReport:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()
        elif self.path.exists():
            self.path.unlink()  # an earlier run's report: this run found nothing wrong


def write_rows(out: IO[str], rows: Iterable[list[str]]) -> int:
    """Write rows (the first is the header) as CSV; returns the data rows written."""
    writer = csv.writer(out)
    count = -1
    for row in rows:
        writer.writerow(row)
        count += 1
    return max(count, 0)
