"""``oms simulate routing``: a tiny generated history replayed through the real services,
myopic against look-ahead; bad input is one line and a non-zero exit."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from oms.cli import app

runner = CliRunner()


def test_a_tiny_history_is_replayed_both_ways_and_the_figures_printed() -> None:
    ran = runner.invoke(
        app,
        ["simulate", "routing", "--days", "2", "--orders-per-day", "5", "--skus", "2",
         "--history-days", "35", "--seed", "3"],
    )  # fmt: skip
    assert ran.exit_code == 0, ran.output
    lines = ran.stdout.splitlines()
    assert lines[0].startswith("replayed ")
    orders = int(re.search(r"replayed (\d+) orders", lines[0]).group(1))  # type: ignore[union-attr]
    assert orders > 0
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:4]}
    assert set(rows) == {"myopic", "look-ahead"}
    for shipping, handling, total, packages, backordered, _ in rows.values():
        assert float(total.replace(",", "")) == pytest.approx(
            float(shipping.replace(",", "")) + float(handling.replace(",", ""))
        )
        assert int(packages) + int(backordered) >= orders  # every order shipped or waits
    assert lines[4].startswith("look-ahead saves ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "#/days: must be from 1 to 365"),
        (["--weight", "lots"], "--weight: not a number"),
        (["--history-days", "10"], "#/history_days"),
    ],
)
def test_bad_settings_are_one_line_and_a_non_zero_exit(args: list[str], message: str) -> None:
    ran = runner.invoke(app, ["simulate", "routing", *args])
    assert ran.exit_code != 0
    assert message in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1
