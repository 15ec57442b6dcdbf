"""CSV files: rows streamed off a file (or an upload) and the row-level error report.

Reading goes through the csv module one record at a time: memory does not grow with the
file. A record's number counts the header as 1, as a spreadsheet numbers its rows (a quoted
cell spanning lines is still one record). The error report is written next to the input as
``FILE.errors.csv`` (``row,column,message``) as errors come; a run without errors removes
an earlier run's report, so a report on disk always belongs to the last run.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, BinaryIO

from oms.services.import_rows import RowError

__all__ = ["CsvSource", "ErrorReport", "error_report_path", "write_rows"]

# A cell may be long (a Shopify product's Body (HTML)); far beyond this is not a CSV.
csv.field_size_limit(min(sys.maxsize, 16 * 1024 * 1024))


class CsvSource:
    """A CSV file's header and its records, streamed; ``position`` is the bytes read."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        self._reader = csv.reader(self._text)
        self.header: list[str] = next(self._reader, [])

    @classmethod
    def open(cls, path: Path) -> CsvSource:
        """The file at ``path`` (binary, buffered: its position is cheap to read)."""
        return cls(path.open("rb"))

    @property
    def position(self) -> int:
        return self._raw.tell()

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(row number, cells)`` of every record after the header; blank lines skipped."""
        number = 1
        for cells in self._reader:
            number += 1
            if any(cell.strip() for cell in cells):
                yield number, cells

    def close(self) -> None:
        self._text.close()


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
