"""The S3 object store against moto: presigned forms and URLs, head, delete."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests

from chalicelib.adapters.s3_store import S3ObjectStore, content_disposition
from tests.adapters.conftest import BUCKET

KEY = "files/user-a/0123456789abcdef0123456789abcdef"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"  # "test"
CASE_1_NAME = "Q3 results (final)+v2: é.pdf"


def _policy(fields: dict[str, str]) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.b64decode(fields["policy"]))
    return decoded


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _filename_star(header: str) -> str:
    encoded = header.split("filename*=UTF-8''", 1)[1]
    return unquote(encoded, errors="strict")


def test_an_upload_form_pins_the_key_the_content_type_and_the_exact_size(
    object_store: S3ObjectStore,
) -> None:
    before = time.time()

    form = object_store.presign_upload(KEY, 1234, "application/pdf", None, 900)

    policy = _policy(form.fields)
    conditions = policy["conditions"]
    assert form.fields["key"] == KEY
    assert form.fields["Content-Type"] == "application/pdf"
    assert {"key": KEY} in conditions
    assert {"bucket": BUCKET} in conditions
    assert {"Content-Type": "application/pdf"} in conditions
    assert ["content-length-range", 1234, 1234] in conditions
    assert not any("x-amz-checksum-sha256" in str(c) for c in conditions)
    expiration = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ")
    lifetime = expiration.replace(tzinfo=UTC).timestamp() - before
    assert 898 <= lifetime <= 901
    assert BUCKET in form.url


def test_an_upload_form_for_a_declared_checksum_pins_s3s_sha256_checksum(
    object_store: S3ObjectStore,
) -> None:
    form = object_store.presign_upload(KEY, 4, "text/plain", SHA, 60)

    checksum = base64.b64encode(bytes.fromhex(SHA)).decode()
    conditions = _policy(form.fields)["conditions"]
    assert form.fields["x-amz-checksum-algorithm"] == "SHA256"
    assert form.fields["x-amz-checksum-sha256"] == checksum
    assert {"x-amz-checksum-algorithm": "SHA256"} in conditions
    assert {"x-amz-checksum-sha256": checksum} in conditions


def test_a_download_url_names_the_file_in_rfc_6266_filename_star(
    object_store: S3ObjectStore,
) -> None:
    url = object_store.presign_download(KEY, CASE_1_NAME, "application/pdf", 900)

    query = _query(url)
    disposition = query["response-content-disposition"]
    assert disposition.startswith("attachment; ")
    assert _filename_star(disposition) == CASE_1_NAME
    assert 'filename="Q3 results (final)+v2: _.pdf"' in disposition
    assert query["response-content-type"] == "application/pdf"
    assert query["X-Amz-Expires"] == "900"
    assert urlsplit(url).path.endswith(KEY)


@pytest.mark.parametrize(
    "filename",
    [
        CASE_1_NAME,
        'quote".txt',
        "semi;colon, comma.txt",
        "back\\slash.txt",
        "percent%20.txt",
        "日本語.txt",
        "tab\there.txt",
    ],
)
def test_any_file_name_survives_the_content_disposition_header(
    filename: str,
) -> None:
    header = content_disposition(filename)

    fallback = header.split('filename="', 1)[1].split('"; filename*=', 1)[0]
    assert _filename_star(header) == filename
    assert fallback.isascii()
    assert '"' not in fallback
    assert "\\" not in fallback
    assert fallback.isprintable()
    assert header.count('"') == 2


def test_head_describes_a_stored_object(object_store: S3ObjectStore, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"hello", ContentType="text/plain")

    stored = object_store.head(KEY)

    assert stored is not None
    assert (stored.key, stored.size, stored.content_type) == (KEY, 5, "text/plain")
    assert stored.etag == "5d41402abc4b2a76b9719d911017c592"
    assert stored.last_modified.tzinfo is not None
    assert stored.sha256 is None


def test_head_reports_the_sha256_that_s3_computed(
    object_store: S3ObjectStore, s3: Any
) -> None:
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"test", ChecksumAlgorithm="SHA256")

    stored = object_store.head(KEY)

    assert stored is not None
    assert stored.sha256 == SHA


def test_head_of_a_missing_object_is_none(object_store: S3ObjectStore) -> None:
    assert object_store.head(KEY) is None


def test_delete_removes_an_object_and_is_no_error_when_it_is_gone(
    object_store: S3ObjectStore, s3: Any
) -> None:
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"x")

    object_store.delete(KEY)
    object_store.delete(KEY)

    assert object_store.head(KEY) is None


def test_bytes_posted_with_the_form_download_with_the_file_name_header(
    object_store: S3ObjectStore,
) -> None:
    form = object_store.presign_upload(KEY, 5, "text/plain", None, 60)
    posted = requests.post(
        form.url, data=form.fields, files={"file": ("ignored", b"hello")}, timeout=5
    )
    url = object_store.presign_download(KEY, CASE_1_NAME, "text/plain", 60)

    downloaded = requests.get(url, timeout=5)

    assert posted.status_code == 204
    assert downloaded.status_code == 200
    assert downloaded.content == b"hello"
    assert _filename_star(downloaded.headers["Content-Disposition"]) == CASE_1_NAME
