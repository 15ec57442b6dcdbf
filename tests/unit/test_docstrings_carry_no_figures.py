"""Benchmark figures live in docs/performance.md, not in the code's docstrings and comments.

A figure recorded beside the code goes stale the moment the code or the machine changes, and
nothing tells the reader; docs/performance.md dates each figure by the run that gave it. The
code says why it is written so and points there (``docs/performance.md, item N``).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "oms"
# A measured figure: a time, a rate, a count of instructions, or a share of CPU or time.
FIGURE = re.compile(
    r"\d[\d,.]*\s?(?:ms|us|µs|μs|ns)\b"
    r"|\d[\d,.]*\s?(?:orders|requests|shipments)/s\b"
    r"|\d[\d,.]*\s?[MK]?\s?instructions\b"
    r"|\d+(?:\.\d+)?\s?%\s+(?:of\s+)?(?:[\w']+\s+){0,4}(?:CPU|time|instructions)\b"
    r"|[-+]?\d+(?:\.\d+)?\s?%\s+(?:faster|slower|less|more)\b",
    re.IGNORECASE,
)


def _prose(path: Path) -> list[tuple[int, str]]:
    """The docstrings and comments of one module, with their first line."""
    text = path.read_text(encoding="utf-8")
    found = [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body[0] if node.body else None
            if (
                isinstance(body, ast.Expr)
                and isinstance(body.value, ast.Constant)
                and isinstance(body.value.value, str)
            ):
                found.append((body.lineno, body.value.value))
    return found


def test_no_docstring_or_comment_in_src_records_a_measured_figure() -> None:
    figures = [
        f"{path.relative_to(SOURCE.parent)}:{line}: {match.group(0)!r}"
        for path in sorted(SOURCE.rglob("*.py"))
        for line, prose in _prose(path)
        for match in FIGURE.finditer(" ".join(prose.split()))
    ]

    assert figures == []


@pytest.mark.parametrize(
    "prose",
    [
        "190-210 us of client CPU",
        "a 702 ms pause",
        "from 313-377 to 433-489 orders/s",
        "1.21M -> 1.14M instructions per placement",
        "py-spy put 6% of an API worker's time in send",
        "5% of a server's CPU per order",
        "-4.4% less",
    ],
)
def test_a_figure_is_recognised(prose: str) -> None:
    assert FIGURE.search(prose)


@pytest.mark.parametrize(
    "prose",
    [
        "items that add up to more than 85% of a box's volume rarely go in it",
        "waits up to OMS_INTAKE_GROUP_WAIT_MS for its callers",
        "see docs/performance.md, item 13",
    ],
)
def test_a_rule_or_a_reference_is_not_a_figure(prose: str) -> None:
    assert not FIGURE.search(prose)
