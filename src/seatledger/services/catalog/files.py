"""Files for ``file_download`` benefits: stored in the database, at most 25 MiB each, with
their SHA-256. Their content leaves only through signed links (``seatledger.services.grants``).
"""

from __future__ import annotations

import hashlib
import re

from seatledger.domain.catalog import StoredFile
from seatledger.domain.errors import NotFound, ValidationFailed
from seatledger.domain.ids import new_id
from seatledger.services.runtime import Runtime

MAX_FILE_SIZE = 25 * 1024 * 1024
MAX_FILE_NAME = 255

_CONTENT_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*(\s*;[ -~]*)?")


async def upload_file(rt: Runtime, *, name: str, content_type: str, content: bytes) -> StoredFile:
    """Store a file (at most 25 MiB) for ``file_download`` benefits."""
    if (
        not isinstance(name, str)
        or not name.strip()
        or len(name) > MAX_FILE_NAME
        or any(ch in name for ch in "/\\")
        or not name.isprintable()
    ):
        raise ValidationFailed.field(
            "name", f"must be a file name of 1 to {MAX_FILE_NAME} printable characters"
        )
    if not isinstance(content_type, str) or not content_type:
        content_type = "application/octet-stream"
    elif len(content_type) > 255 or not _CONTENT_TYPE.fullmatch(content_type):
        raise ValidationFailed.field("content_type", "must be a media type such as text/plain")
    if not isinstance(content, bytes | bytearray | memoryview):
        raise ValidationFailed.field("file", "must be the file's bytes")
    content = bytes(content)
    if len(content) > MAX_FILE_SIZE:
        raise ValidationFailed.field("file", f"must be at most {MAX_FILE_SIZE // 2**20} MiB")
    now = rt.clock.now()
    stored = StoredFile(
        id=new_id("file"),
        name=name,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        created_at=now,
    )
    async with rt.transaction() as uow:
        await uow.catalog.add_file(stored, content)
        uow.emit(
            "file.created",
            {
                "id": stored.id,
                "name": stored.name,
                "content_type": stored.content_type,
                "size": stored.size,
                "sha256": stored.sha256,
                "created_at": now.isoformat(),
            },
        )
        await uow.commit()
    return stored


async def get_file(rt: Runtime, file_id: str) -> StoredFile:
    """A stored file's description (not its content: that goes through signed links)."""
    async with rt.reading() as uow:
        stored = await uow.catalog.file(file_id)
    if stored is None:
        raise NotFound("file")
    return stored


__all__ = ["MAX_FILE_SIZE", "get_file", "upload_file"]
