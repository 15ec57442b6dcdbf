"""A CSV file's records streamed: the header, then ``(row number, cells)`` one at a time.

Reading goes through the csv module one record at a time: memory does not grow with the
file. A record's number counts the header as 1, as a spreadsheet numbers its rows (a quoted
cell spanning lines is still one record). Blank records are skipped.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from typing import BinaryIO

__all__ = ["CsvSource"]

# A cell may be long (a Shopify product's Body (HTML)); far beyond this is not a CSV.
csv.field_size_limit(min(sys.maxsize, 16 * 1024 * 1024))


class CsvSource:
    """A CSV file's header and its records, streamed; ``position`` is the bytes read."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        self._reader = csv.reader(self._text)
        self.header: list[str] = next(self._reader, [])

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
