"""The REST API's request and response models.

These are the contract clients build on: the OpenAPI description is generated
from them. Request bodies refuse unknown fields and coerce nothing, so a
client's typo or a string where a number belongs is a 400, not a guess.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)

from chalicelib.domain import ChangeKind, FileRecord, FileStatus
from chalicelib.names import MAX_NAME_BYTES, normalize_name
from chalicelib.settings import MAX_FILE_SIZE

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# A cursor holds an index position: up to four keys that each carry a name or
# folder (JSON-escaped, so up to twice its bytes), signed and in base64. The
# longest the API issues is about 8,400 characters.
MAX_CURSOR_CHARS = 12 * 1024
# A media type as RFC 6838 spells it, with optional parameters.
CONTENT_TYPE_PATTERN = (
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
    r"(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=(\"[^\"\r\n]*\"|[A-Za-z0-9!#$&^_.+-]+))*$"
)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# Checked and normalised by the same rules wherever a client names a file.
FileName = Annotated[
    str,
    Field(
        description=(
            "A path such as docs/2026/report.pdf: UTF-8, normalised to NFC, "
            f"at most {MAX_NAME_BYTES} bytes, no empty, '.' or '..' segment, "
            "no segment that starts or ends with a space, no control, "
            "invisible or unassigned character."
        ),
        examples=["docs/2026/report.pdf"],
    ),
    AfterValidator(normalize_name),
]


class CreateFileRequest(_Request):
    name: FileName
    size: Annotated[int, Field(ge=0, le=MAX_FILE_SIZE, description="Exact bytes.")]
    content_type: Annotated[
        str, Field(max_length=255, pattern=CONTENT_TYPE_PATTERN)
    ] = "application/octet-stream"
    sha256: Annotated[
        str | None,
        Field(
            pattern=r"^[0-9a-f]{64}$",
            description="The content's SHA-256, lowercase hex, if the client knows it.",
        ),
    ] = None


class RenameFileRequest(_Request):
    """A file's new name, in any folder; its bytes stay where they are."""

    name: FileName


class NoQuery(_Request):
    """The query of a route that takes none: any parameter is a 400, so a
    client's misspelt option is told rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class ListFilesQuery(_Request):
    # Query strings carry text, so these fields parse from it; still no
    # unknown parameter is accepted.
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)

    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE
    cursor: Annotated[str | None, Field(max_length=MAX_CURSOR_CHARS)] = None
    prefix: Annotated[str, Field(max_length=MAX_NAME_BYTES)] = ""
    delimiter: Annotated[str | None, Field(pattern=r"^/$")] = None

    @field_validator("limit", mode="before")
    @classmethod
    def _digits_only(cls, value: object) -> object:
        # int("+5"), int(" 5") and int("1_0") all succeed; a page size is digits.
        if isinstance(value, str) and not value.isdigit():
            raise ValueError("limit must be a whole number written in digits")
        return value

    @field_validator("prefix")
    @classmethod
    def _composed(cls, value: str) -> str:
        # Names are stored in NFC; a prefix typed in another form must match.
        return unicodedata.normalize("NFC", value)


class TrashQuery(_Request):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)

    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE
    cursor: Annotated[str | None, Field(max_length=MAX_CURSOR_CHARS)] = None

    @field_validator("limit", mode="before")
    @classmethod
    def _digits_only(cls, value: object) -> object:
        if isinstance(value, str) and not value.isdigit():
            raise ValueError("limit must be a whole number written in digits")
        return value


class UploadForm(BaseModel):
    url: str
    fields: dict[str, str]
    expires_at: AwareDatetime


class FileView(BaseModel):
    file_id: str
    name: str
    size: int
    content_type: str
    status: FileStatus
    created_at: datetime
    uploaded_at: datetime | None = None
    etag: str | None = None
    sha256: str | None = None
    sha256_verified: bool | None = None
    rejected_reason: str | None = None
    trashed_at: datetime | None = Field(
        default=None, description="When it went to the trash, while it is there."
    )

    @classmethod
    def of(cls, record: FileRecord) -> FileView:
        return cls(
            file_id=record.file_id,
            name=record.name,
            size=record.size,
            content_type=record.content_type,
            status=record.status,
            created_at=record.created_at,
            uploaded_at=record.uploaded_at,
            etag=record.etag,
            sha256=record.sha256,
            sha256_verified=record.sha256_verified if record.sha256 else None,
            rejected_reason=record.rejected_reason,
            trashed_at=(
                record.in_status_since if record.status is FileStatus.TRASHED else None
            ),
        )


class FileDetails(FileView):
    download_url: str | None = None
    download_expires_at: datetime | None = None


class CreatedFile(BaseModel):
    file_id: str
    name: str
    status: FileStatus
    upload: UploadForm | None = Field(
        description=(
            "Where to upload the bytes. Null only when a create repeated with "
            "its Idempotency-Key finds the upload already done."
        )
    )


class UsageFigure(BaseModel):
    used: int
    limit: int


class UsageView(BaseModel):
    files: UsageFigure = Field(description="Files stored or being uploaded.")
    bytes: UsageFigure = Field(description="Their declared sizes, summed.")


class FolderView(BaseModel):
    name: str


class FileListing(BaseModel):
    items: list[FileView]
    folders: list[FolderView]
    next_cursor: str | None


class TrashListing(BaseModel):
    items: list[FileView] = Field(description="Most recently trashed first.")
    next_cursor: str | None
    retention_days: int = Field(
        description="How long a file stays in the trash before it is deleted "
        "for good (counted from its trashed_at)."
    )


class DeleteAccepted(BaseModel):
    file_id: str
    # DELETING while the delete runs; DELETED when there was nothing to wait
    # for (a rejected upload holds neither bytes nor a name).
    status: Literal["DELETING", "DELETED"]


class ErrorBody(BaseModel):
    Code: str
    Message: str
    Details: object | None = None


class ChangesQuery(_Request):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)

    cursor: Annotated[str | None, Field(max_length=1024)] = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE

    @field_validator("limit", mode="before")
    @classmethod
    def _digits_only(cls, value: object) -> object:
        if isinstance(value, str) and not value.isdigit():
            raise ValueError("limit must be a whole number written in digits")
        return value


class ChangeView(BaseModel):
    type: ChangeKind
    file_id: str
    name: str = Field(description="The file's name after the change.")
    previous_name: str | None = Field(
        default=None,
        description="Its name before, for a renamed or restored file; else null.",
    )
    time: datetime
    sequence: int = Field(description="The file's own order: sort one file by it.")


class ChangesView(BaseModel):
    changes: list[ChangeView]
    cursor: str = Field(description="Pass it back to get what changed after.")
    has_more: bool


class LatestCursor(BaseModel):
    cursor: str
