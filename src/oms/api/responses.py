"""Answers that are not JSON."""

from __future__ import annotations

from typing import Any

from fastapi import Response

__all__ = ["PDF", "PDF_RESPONSE", "pdf_response"]

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
