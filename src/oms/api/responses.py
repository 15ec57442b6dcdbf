"""Answers that are not JSON, and the status of a create that may be a replay."""

from __future__ import annotations

from typing import Any

from fastapi import Response

__all__ = ["PDF", "PDF_RESPONSE", "REPLAYED_CREATE", "create_status", "pdf_response"]

REPLAYED_CREATE: dict[int | str, dict[str, Any]] = {
    200: {"description": "Made by an earlier call (the same Idempotency-Key, or the same thing)"}
}


def create_status(created: bool) -> int:
    """The one rule for every idempotent create (docs/api.md): 201 when this call made the
    resource, 200 with the existing one when an earlier call had."""
    return 201 if created else 200


PDF = "application/pdf"
PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {PDF: {}}, "description": "A PDF document"}
}


def pdf_response(content: bytes, filename: str) -> Response:
    """A PDF shown in the browser (printable), saved as ``filename``."""
    return Response(
        content,
        media_type=PDF,
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
