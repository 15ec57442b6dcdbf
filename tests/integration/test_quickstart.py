"""docs/quickstart.md runs as written: its ``sh`` blocks, in order, in one bash, against a
real ``oms serve`` on a free loopback port and a temporary SQLite database. The README's
``curl`` commands are the quickstart's, so they work as written too.

The only translation: the page's port 8000 becomes a free one. The page's ``.venv/bin/oms``
is the environment running this test (linked into the temporary directory).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "docs" / "quickstart.md"
README = ROOT / "README.md"
PROBLEM = '"type":"https://oms.dev/problems/'


def _blocks(path: Path, language: str = "sh") -> list[str]:
    text = path.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _on_port(script: str, port: int) -> str:
    for given in ("127.0.0.1:8000", "--port 8000"):
        assert given in script, f"the quickstart no longer says {given!r}"
    return script.replace("127.0.0.1:8000", f"127.0.0.1:{port}").replace(
        "--port 8000", f"--port {port}"
    )


def _flat(text: str) -> str:
    """``text`` with line continuations joined and every run of whitespace one space."""
    return " ".join(text.replace("\\\n", " ").split())


def _curl_commands(block: str) -> list[str]:
    """Each ``curl`` command of a block: its line and the indented lines that go on with it."""
    commands: list[list[str]] = []
    current: list[str] | None = None
    for line in block.splitlines():
        if line.startswith("curl "):
            current = [line]
            commands.append(current)
        elif current is not None and line[:1].isspace():
            current.append(line)
        else:
            current = None
    return [_flat("\n".join(command)) for command in commands]


def test_the_readmes_curl_commands_are_the_quickstarts() -> None:
    readme = [command for block in _blocks(README) for command in _curl_commands(block)]
    quickstart = _flat("\n".join(_blocks(QUICKSTART)))

    assert any("/v1/orders" in command for command in readme)
    assert [command for command in readme if command not in quickstart] == []


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "openssl")),
    reason="the quickstart needs bash, curl and openssl",
)
def test_the_quickstart_runs_as_written_to_a_delivered_order(tmp_path: Path) -> None:
    venv = Path(sys.prefix)
    assert (venv / "bin" / "oms").exists(), "run the tests from the project's environment"
    (tmp_path / ".venv").symlink_to(venv, target_is_directory=True)
    script = "set -euo pipefail\n" + "\n".join(_blocks(QUICKSTART))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMS_")}
    bash = shutil.which("bash")
    assert bash is not None
    shell = subprocess.Popen(  # noqa: S603 - the commands of our own docs/quickstart.md
        [bash, "-c", _on_port(script, _free_port())],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the server goes with it
    )
    try:
        out, err = shell.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):  # it ended, and the server with it
            os.killpg(shell.pid, signal.SIGTERM)
        shell.wait()

    log = (
        (tmp_path / "quickstart.log").read_text() if (tmp_path / "quickstart.log").exists() else ""
    )
    assert shell.returncode == 0, f"stdout:\n{out}\nstderr:\n{err}\nserver log:\n{log}"
    assert PROBLEM not in out, out
    lines = out.strip().splitlines()
    # The parcel's tracking page, the order's status axes, then oms check.
    assert lines[-5:] == [
        "delivered",
        "closed",
        "delivered",
        "paid",
        "ok: every inventory level balances with its ledger and allocations, every"
        " store-credit balance with its entries",
    ], out
    assert "Acme Ground" in lines
    assert '"carrier":"acme"' in out  # routed with a carrier service
