"""/v1/imports: a CSV file of products, stock levels or orders, imported row by row.

The file comes as the request body (``Content-Type: text/csv``) or as the ``file`` part of
a ``multipart/form-data`` upload (the portal's form); the answer is the import's summary
with each refused row's problems. Files up to ``OMS_MAX_BODY_BYTES``: bigger ones go
through ``oms import`` (docs/import.md).
"""

from __future__ import annotations

import tempfile
from typing import Annotated, BinaryIO

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from oms.api.deps import ActorDep, GatewaysDep, GeocoderDep, TenantId, UowDep
from oms.api.one_hop import OneHopRoute
from oms.domain.errors import FieldError, InvalidRequest
from oms.services.csv_source import CsvSource
from oms.services.import_rows import ImportKind
from oms.services.imports import ImportRequest, ImportSummary, import_rows

__all__ = ["router"]

router = APIRouter(route_class=OneHopRoute, prefix="/v1/imports", tags=["imports"])

SPOOL_BYTES = 4 * 1024 * 1024  # kept in memory up to this, then on disk


class RowErrorRead(BaseModel):
    row: int = Field(description="The file's row, the header being row 1")
    column: str
    message: str


class ImportRead(BaseModel):
    kind: ImportKind
    dry_run: bool
    rows: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    failed: int
    error_count: int
    errors: list[RowErrorRead] = Field(description="The first 1,000 problems, in row order")

    @classmethod
    def of(cls, summary: ImportSummary) -> ImportRead:
        done = summary.created + summary.updated + summary.unchanged
        return cls(
            kind=summary.kind,
            dry_run=summary.dry_run,
            rows=done + summary.skipped + summary.failed,
            created=summary.created,
            updated=summary.updated,
            unchanged=summary.unchanged,
            skipped=summary.skipped,
            failed=summary.failed,
            error_count=summary.error_count,
            errors=[
                RowErrorRead(row=e.row, column=e.column, message=e.message) for e in summary.errors
            ],
        )


async def _uploaded(request: Request) -> BinaryIO:
    """The CSV of the request: its body, or the multipart upload's ``file`` part."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidRequest("No file", [FieldError("#/file", "a CSV file part is required")])
        upload.file.seek(0)
        return upload.file
    if content_type not in {"text/csv", "application/csv", "text/plain"}:
        raise InvalidRequest(
            "Send a CSV file",
            [FieldError("header:Content-Type", "text/csv, or multipart/form-data with a file")],
        )
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned
    async for chunk in request.stream():
        spool.write(chunk)
    spool.seek(0)
    return spool  # type: ignore[return-value]


@router.post("", response_model=ImportRead)
async def import_file(
    request: Request,
    tenant_id: TenantId,
    actor: ActorDep,
    uow: UowDep,
    gateways: GatewaysDep,
    geocoder: GeocoderDep,
    kind: Annotated[ImportKind, Query(description="What the file holds")],
    dry_run: Annotated[bool, Query(description="Check every row; write nothing")] = False,
    currency: Annotated[
        str | None,
        Query(min_length=3, max_length=3, description="For files without a currency column"),
    ] = None,
) -> ImportRead:
    """Import a CSV file (documented columns, or a Shopify products export): each row is
    applied whole or refused with ``(row, column, message)``; the same file again changes
    nothing. 200 with the summary, also when rows were refused; 422 for a file the import
    cannot read at all (a required column missing)."""
    raw = await _uploaded(request)

    def work() -> ImportSummary:
        try:
            source = CsvSource(raw)
            return import_rows(
                uow_factory=uow,
                gateways=gateways,
                geocoder=geocoder,
                tenant_id=tenant_id,
                request=ImportRequest(
                    kind=kind,
                    header=source.header,
                    rows=source.rows(),
                    dry_run=dry_run,
                    currency=currency,
                    reference="csv import (API)",
                ),
                actor=actor,
            )
        except UnicodeDecodeError as error:
            raise InvalidRequest(
                "The file is not UTF-8",
                [FieldError("#/file", f"undecodable at byte {error.start}")],
            ) from None
        finally:
            raw.close()

    return ImportRead.of(await run_in_threadpool(work))
