"""Counters of emails sent and failed, when ``prometheus-client`` is installed.

``oms_emails_sent_total{template}`` counts emails the mail server accepted;
``oms_emails_failed_total{template,final}`` the attempts it did not (``final="true"``: a
permanent refusal, the email is given up). They live in the default registry, so any
``/metrics`` endpoint of the process exposes them. Without the package, nothing is counted.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

__all__ = ["count_email"]


@cache
def _counters() -> tuple[Any, Any] | None:
    try:
        prometheus = importlib.import_module("prometheus_client")
    except ImportError:
        return None
    sent = prometheus.Counter(
        "oms_emails_sent_total", "Emails the mail server accepted", ["template"]
    )
    failed = prometheus.Counter(
        "oms_emails_failed_total",
        "Email attempts the mail server did not accept (final: given up)",
        ["template", "final"],
    )
    return sent, failed


def count_email(template: str, *, accepted: bool, final: bool = False) -> None:
    """Count one attempt to send an email of ``template``."""
    counters = _counters()
    if counters is None:
        return
    sent, failed = counters
    if accepted:
        sent.labels(template=template).inc()
    else:
        failed.labels(template=template, final="true" if final else "false").inc()
