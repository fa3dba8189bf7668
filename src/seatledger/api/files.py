"""Files for ``file_download`` benefits: uploaded by the merchant, downloaded through signed
links that only live grants can produce (SPEC §5, §6)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import Response

from seatledger.api.auth import MerchantWriter
from seatledger.api.common import OutModel, RuntimeDep, Timestamp, idempotency_key_header
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.domain.catalog import StoredFile
from seatledger.domain.errors import ValidationFailed
from seatledger.domain.ids import check_id
from seatledger.services import catalog, grants

router = APIRouter(tags=["files"], route_class=JsonRoute)


class FileOut(OutModel):
    id: str
    name: str
    content_type: str
    size: int
    sha256: str
    created_at: Timestamp


def file_out(stored: StoredFile) -> FileOut:
    return FileOut.model_validate(stored, from_attributes=True)


@router.post(
    "/v1/files",
    status_code=201,
    summary="Upload a file",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 422),
)
async def upload_file(
    file: Annotated[UploadFile, File(description="The file (at most 25 MiB).")],
    rt: RuntimeDep,
    _: MerchantWriter,
) -> FileOut:
    """Multipart upload (`file`). A `file_download` benefit names the answer's `id`."""
    content = await file.read(catalog.MAX_FILE_SIZE + 1)
    try:
        stored = await catalog.upload_file(
            rt,
            name=file.filename or "",
            content_type=file.content_type or "",
            content=content,
        )
    except ValidationFailed as error:
        # The part's file name and type come with the file: name the form field.
        message = error.errors[0][1] if error.errors else error.detail
        raise ValidationFailed.field("file", message) from None
    return file_out(stored)


@router.get(
    "/v1/files/{file_id}/download",
    summary="Download a file through a signed link",
    response_class=Response,
    responses={
        200: {
            "description": "The file's bytes (`Content-Type` is the type it was uploaded with).",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        },
        **responses(404),
    },
)
async def download_file(
    file_id: str,
    rt: RuntimeDep,
    grant: Annotated[str, Query()] = "",
    expires: Annotated[str, Query()] = "",
    signature: Annotated[str, Query()] = "",
) -> Response:
    """Public: the link itself is the credential. Member entitlements carry fresh links (one
    hour); a link dies with its grant. Every refusal is the same 404."""
    stored, content = await grants.download_file(
        rt,
        file_id=check_id(file_id, "file"),
        grant_id=grant,
        expires=expires,
        signature=signature,
    )
    disposition = f"attachment; filename*=UTF-8''{quote(stored.name, safe='')}"
    return Response(
        content,
        media_type=stored.content_type,
        headers={
            "Content-Disposition": disposition,
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            # A second layer should a browser render it all the same (an uploaded HTML or
            # SVG file): no script, no form, no same-origin access.
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )
