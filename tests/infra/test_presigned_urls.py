"""Presigned URLs name the bucket's own region, so browsers reach it at once.

A bucket outside us-east-1 answers requests to S3's global endpoint with a
redirect for its first hours, and a browser's CORS upload or download does
not follow it. Signing needs no call to AWS, so these run offline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from chalicelib import clients
from chalicelib.adapters.s3_store import S3ObjectStore

BUCKET = "filemanager-dev-files-210987654321-eu-west-1"
REGIONAL_HOST = f"{BUCKET}.s3.eu-west-1.amazonaws.com"


@pytest.fixture
def region(tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """A function's environment in eu-west-1, with no other endpoint."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
        patch.setenv("AWS_ACCESS_KEY_ID", "signing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "signing")
        patch.setenv("AWS_REGION", "eu-west-1")
        patch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        clients.reset()
        yield patch
    clients.reset()


def _store() -> S3ObjectStore:
    return S3ObjectStore(lambda: clients.client("s3"), BUCKET)


def test_an_upload_form_posts_to_the_buckets_regional_host(
    region: pytest.MonkeyPatch,
) -> None:
    form = _store().presign_upload("files/o/f", 12, "text/plain", None, 900)

    url = urlsplit(form.url)

    assert (url.scheme, url.hostname, url.path) == ("https", REGIONAL_HOST, "/")
    assert "eu-west-1/s3/aws4_request" in form.fields["x-amz-credential"]


def test_a_download_url_names_the_buckets_regional_host(
    region: pytest.MonkeyPatch,
) -> None:
    download = _store().presign_download("files/o/f", "a.txt", "text/plain", 900)

    url = urlsplit(download)

    assert (url.scheme, url.hostname, url.path) == (
        "https",
        REGIONAL_HOST,
        "/files/o/f",
    )
    assert "eu-west-1%2Fs3%2Faws4_request" in url.query


def test_the_local_stack_keeps_its_buckets_by_path_on_its_own_endpoint(
    region: pytest.MonkeyPatch,
) -> None:
    region.setenv("AWS_ENDPOINT_URL", "http://localhost:5005")

    form = _store().presign_upload("files/o/f", 12, "text/plain", None, 900)
    download = _store().presign_download("files/o/f", "a.txt", "text/plain", 900)

    assert form.url == f"http://localhost:5005/{BUCKET}"
    assert download.startswith(f"http://localhost:5005/{BUCKET}/files/o/f?")
