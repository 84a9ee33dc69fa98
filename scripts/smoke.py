"""Smoke run: push a real folder through the file manager and back.

    python scripts/smoke.py FOLDER [--stack .local/stack.json] [--timeout 60]
    python scripts/smoke.py FOLDER --api-url URL --region R --client-id ID \\
        --username U --password P [--endpoint-url http://127.0.0.1:5005]

It signs in with Cognito (USER_PASSWORD_AUTH), creates one file per regular
file under FOLDER (named by its relative path, under a fresh prefix so runs
never collide), uploads the bytes with the presigned POST form, waits until
each is AVAILABLE, lists them page by page and folder by folder, downloads
each and compares its SHA-256, deletes each and waits until it is gone. It
prints one line per step (count, duration) and exits non-zero on the first
mismatch or error, after a best-effort delete of what it created.

Works against the local stack (coordinates from `.local/stack.json`) or any
deployed stage (coordinates on the command line). Needs requests and boto3.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import mimetypes
import os
import sys
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, unquote

import boto3
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# The file the local stack writes, `python -m devstack` run from the repository.
DEFAULT_STACK_FILE = Path(__file__).resolve().parents[1] / ".local" / "stack.json"
TRACE_HEADER = "X-Trace-Id"
# Small pages, so that even a small folder makes the listing turn pages.
PAGE_LIMIT = 3
POLL_INTERVAL_SECONDS = 0.2
HTTP_TIMEOUT = (5, 120)  # connect, read
CHUNK_BYTES = 1024 * 1024
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class SmokeError(Exception):
    """The service did something other than promised, or could not be reached."""


# --- where the stack is ------------------------------------------------------


@dataclass(frozen=True)
class Stack:
    """What the smoke run needs to find and sign in to one stage."""

    api_url: str
    region: str
    client_id: str
    username: str
    password: str
    endpoint_url: str | None = None  # a local AWS (moto); None for real AWS

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Stack:
        """The stack file's coordinates, each overridden by its option."""
        values = _read_stack_file(args.stack) if args.stack else {}
        options = {
            "api_url": args.api_url,
            "region": args.region,
            "client_id": args.client_id,
            "username": args.username,
            "password": args.password,
            "endpoint_url": args.endpoint_url,
        }
        values |= {key: value for key, value in options.items() if value}
        required = [key for key in options if key != "endpoint_url"]
        missing = [key for key in required if not values.get(key)]
        if missing:
            flags = ", ".join("--" + key.replace("_", "-") for key in missing)
            if args.stack:
                raise SmokeError(f"{args.stack} does not give {flags}")
            raise SmokeError(
                f"there is no {DEFAULT_STACK_FILE} (is the local stack running? "
                f"else pass --stack FILE) and no option gives {flags}"
            )
        return cls(**{key: values.get(key) for key in options})


def _read_stack_file(path: Path) -> dict[str, Any]:
    """A stack file's coordinates, by this dataclass's field names."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        user = raw.get("demo_user") or {}
        return {
            "api_url": raw.get("api_url"),
            "region": raw.get("region"),
            "client_id": raw.get("user_pool_client_id"),
            "username": user.get("username"),
            "password": user.get("password"),
            "endpoint_url": raw.get("aws_endpoint_url"),
        }
    except (OSError, ValueError, AttributeError) as exc:
        raise SmokeError(f"cannot read stack file {path}: {exc}") from exc


def _cognito_access(stack: Stack) -> dict[str, Any]:
    retries = {"max_attempts": 2}
    if stack.endpoint_url:
        # moto takes the region from the request's signature: sign, any key.
        return {
            "endpoint_url": stack.endpoint_url,
            "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
            "config": Config(retries=retries),
        }
    # InitiateAuth is a public operation: AWS needs no credentials for it.
    return {"config": Config(signature_version=UNSIGNED, retries=retries)}


def sign_in(stack: Stack) -> str:
    """An ID token for the stack's user, from Cognito's USER_PASSWORD_AUTH."""
    cognito = boto3.session.Session().client(
        "cognito-idp", region_name=stack.region, **_cognito_access(stack)
    )
    try:
        answer = cognito.initiate_auth(
            AuthFlow="USER_PASSWORD_AUTH",
            ClientId=stack.client_id,
            AuthParameters={"USERNAME": stack.username, "PASSWORD": stack.password},
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise SmokeError(
            f"sign-in as {stack.username!r} refused: "
            f"{error.get('Code')}: {error.get('Message')}"
        ) from exc
    except BotoCoreError as exc:
        raise SmokeError(f"cannot reach Cognito: {exc}") from exc
    result = answer.get("AuthenticationResult")
    if not result:
        raise SmokeError(
            f"sign-in as {stack.username!r} asks for the challenge "
            f"{answer.get('ChallengeName')!r}; finish it once with another client"
        )
    return str(result["IdToken"])


# --- the folder --------------------------------------------------------------


@dataclass(frozen=True)
class LocalFile:
    path: Path
    name: str  # the name the file gets: prefix + relative path, '/'-separated
    size: int
    sha256: str
    content_type: str


def warn(message: str) -> None:
    print(f"smoke: {message}", file=sys.stderr)


def regular_files(folder: Path) -> Iterator[Path]:
    """Every regular file under `folder`; anything else is skipped, loudly."""
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            path = Path(entry.path)
            if entry.is_symlink():
                warn(f"skipped {path}: a symbolic link, not a regular file")
            elif entry.is_dir(follow_symlinks=False):
                yield from regular_files(path)
            elif entry.is_file(follow_symlinks=False):
                yield path
            else:
                warn(f"skipped {path}: not a regular file (device, pipe or socket)")


def digest(path: Path) -> tuple[int, str]:
    """Size and SHA-256 (hex) of a file, read in chunks."""
    sha, size = hashlib.sha256(), 0
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            sha.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest()


def content_type_of(name: str) -> str:
    media_type, encoding = mimetypes.guess_type(name, strict=False)
    # A .tar.gz is gzip bytes, whatever the tar inside: no media type fits.
    return media_type if media_type and not encoding else DEFAULT_CONTENT_TYPE


def collect(folder: Path, prefix: str) -> list[LocalFile]:
    files = []
    for path in regular_files(folder):
        relative = path.relative_to(folder).as_posix()
        try:
            relative.encode("utf-8")
        except UnicodeEncodeError:
            warn(f"skipped {path}: its name is not valid UTF-8")
            continue
        try:
            size, sha256 = digest(path)
        except OSError as exc:
            raise SmokeError(f"cannot read {path}: {exc}") from exc
        # The service keeps names in NFC (macOS writes NFD); expect that form.
        name = unicodedata.normalize("NFC", prefix + relative)
        files.append(LocalFile(path, name, size, sha256, content_type_of(name)))
    if not files:
        raise SmokeError(f"{folder} holds no regular file to upload")
    return files


# --- the API -----------------------------------------------------------------


class Api:
    """The file manager's routes, with one trace id per step."""

    def __init__(self, base_url: str, id_token: str) -> None:
        self._base_url = base_url.rstrip("/")
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {id_token}"
        self.trace_id = uuid.uuid4().hex

    def call(
        self, method: str, path: str, expect: int | tuple[int, ...], **kwargs: Any
    ) -> requests.Response:
        """Send one request; its status must be one of `expect`."""
        expected = expect if isinstance(expect, tuple) else (expect,)
        what = f"{method} {path} (trace id {self.trace_id})"
        try:
            answer = self._session.request(
                method,
                self._base_url + path,
                headers={TRACE_HEADER: self.trace_id},
                timeout=HTTP_TIMEOUT,
                **kwargs,
            )
        except requests.RequestException as exc:
            raise SmokeError(f"{what} failed: {exc}") from exc
        if answer.status_code not in expected:
            raise SmokeError(
                f"{what} answered {answer.status_code}, expected "
                f"{' or '.join(map(str, expected))}: {answer.text[:500]}"
            )
        if answer.headers.get(TRACE_HEADER) != self.trace_id:
            raise SmokeError(
                f"{what} did not echo the trace id "
                f"(got {answer.headers.get(TRACE_HEADER)!r})"
            )
        return answer

    def _json(self, answer: requests.Response) -> Any:
        try:
            return answer.json()
        except ValueError as exc:
            raise SmokeError(
                f"{answer.request.method} {answer.url} (trace id {self.trace_id}) "
                f"answered {answer.status_code} with no JSON: {answer.text[:500]}"
            ) from exc

    def create(self, file: LocalFile) -> dict[str, Any]:
        body = {
            "name": file.name,
            "size": file.size,
            "content_type": file.content_type,
            "sha256": file.sha256,
        }
        return self._json(self.call("POST", "/files", 201, json=body))

    def describe(self, file_id: str) -> dict[str, Any] | None:
        """The file's details, or None once the API answers 404."""
        path = f"/files/{quote(file_id, safe='')}"
        answer = self.call("GET", path, (200, 404))
        return self._json(answer) if answer.status_code == 200 else None

    def list_page(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._json(self.call("GET", "/files", 200, params=params))

    def latest_change(self) -> str:
        return str(self._json(self.call("GET", "/changes/latest", 200))["cursor"])

    def changes(self, cursor: str) -> dict[str, Any]:
        answer = self.call("GET", "/changes", 200, params={"cursor": cursor})
        return dict(self._json(answer))

    def delete(self, file_id: str, expect: int | tuple[int, ...] = 202) -> Any:
        path = f"/files/{quote(file_id, safe='')}"
        return self._json(self.call("DELETE", path, expect))


# --- the bytes ---------------------------------------------------------------


class UploadForm:
    """A presigned POST form as a multipart body that streams the file.

    S3 reads the policy fields before the file, so the file part goes last.
    The file is read in chunks while the body is sent, so a large one never
    sits in memory; `len()` gives requests the exact Content-Length, since S3
    refuses a chunked POST upload.
    """

    def __init__(self, fields: dict[str, str], path: Path, content_type: str):
        boundary = uuid.uuid4().hex
        head = b"".join(_form_field(boundary, name, v) for name, v in fields.items())
        head += (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="blob"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self._length = len(head) + path.stat().st_size + len(tail)
        self._parts: list[BinaryIO] = [io.BytesIO(head), path.open("rb")]
        self._parts.append(io.BytesIO(tail))

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            return b"".join(iter(lambda: self.read(CHUNK_BYTES), b""))
        while self._parts:
            chunk = self._parts[0].read(size)
            if chunk:
                return chunk
            self._parts.pop(0).close()
        return b""

    def close(self) -> None:
        for part in self._parts:
            part.close()
        self._parts = []


def _form_field(boundary: str, name: str, value: str) -> bytes:
    return (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{name}"\r\n\r\n'
        f"{value}\r\n"
    ).encode()


def upload(form: dict[str, Any], file: LocalFile) -> None:
    """POST the bytes to S3 with the form `POST /files` handed out."""
    body = UploadForm(form["fields"], file.path, file.content_type)
    try:
        with contextlib.closing(body):
            answer = requests.post(
                form["url"],
                data=body,
                headers={"Content-Type": body.content_type},
                timeout=HTTP_TIMEOUT,
            )
    except (requests.RequestException, OSError) as exc:
        raise SmokeError(f"upload of {file.name!r} failed: {exc}") from exc
    if answer.status_code not in (200, 201, 204):
        raise SmokeError(
            f"upload of {file.name!r} answered {answer.status_code}: "
            f"{answer.text[:500]}"
        )


def download(url: str, name: str) -> tuple[int, str, str]:
    """Size, SHA-256 and Content-Disposition of a presigned download."""
    sha, size = hashlib.sha256(), 0
    try:
        with requests.get(url, stream=True, timeout=HTTP_TIMEOUT) as answer:
            if answer.status_code != 200:
                raise SmokeError(
                    f"download of {name!r} answered {answer.status_code}: "
                    f"{answer.text[:500]}"
                )
            for chunk in answer.iter_content(CHUNK_BYTES):
                sha.update(chunk)
                size += len(chunk)
    except requests.RequestException as exc:
        raise SmokeError(f"download of {name!r} failed: {exc}") from exc
    return size, sha.hexdigest(), answer.headers.get("Content-Disposition", "")


def filename_star(disposition: str) -> str | None:
    """The RFC 6266 `filename*` of a Content-Disposition header, decoded."""
    for param in disposition.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "filename*":
            charset, _, encoded = value.partition("''")
            return unquote(encoded, encoding=charset or "utf-8")
    return None


# --- the steps ---------------------------------------------------------------


@dataclass
class Uploaded:
    local: LocalFile
    file_id: str
    form: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)


def wait_for(
    files: list[Uploaded], settled: Callable[[Uploaded], bool], timeout: float
) -> list[Uploaded]:
    """Poll until `settled` holds for every file; the ones still waiting."""
    deadline = time.monotonic() + timeout
    waiting = files
    while True:
        waiting = [file for file in waiting if not settled(file)]
        if not waiting or time.monotonic() > deadline:
            return waiting
        time.sleep(POLL_INTERVAL_SECONDS)


def names_of(files: list[Uploaded]) -> str:
    shown = ", ".join(repr(file.local.name) for file in files[:5])
    return shown + (f" and {len(files) - 5} more" if len(files) > 5 else "")


def create_all(api: Api, files: list[LocalFile], created: list[Uploaded]) -> None:
    for file in files:
        answer = api.create(file)
        if answer.get("name") != file.name or answer.get("status") != "PENDING":
            raise SmokeError(
                f"POST /files for {file.name!r} answered name {answer.get('name')!r}"
                f" and status {answer.get('status')!r}; expected that name, PENDING"
            )
        created.append(Uploaded(file, answer["file_id"], answer["upload"]))


def wait_available(api: Api, files: list[Uploaded], timeout: float) -> None:
    def settled(file: Uploaded) -> bool:
        details = api.describe(file.file_id) or {"status": "gone (404)"}
        if details["status"] == "PENDING":
            return False
        if details["status"] != "AVAILABLE":
            reason = details.get("rejected_reason") or "no reason given"
            raise SmokeError(
                f"{file.local.name!r} became {details['status']}, not AVAILABLE: "
                f"{reason}"
            )
        check_details(file.local, details)
        file.details = details
        return True

    waiting = wait_for(files, settled, timeout)
    if waiting:
        raise SmokeError(
            f"{len(waiting)} file(s) still PENDING after {timeout:.0f} s: "
            f"{names_of(waiting)}"
        )


def check_details(local: LocalFile, details: dict[str, Any]) -> None:
    expected = {
        "name": local.name,
        "size": local.size,
        "content_type": local.content_type,
        "sha256": local.sha256,
    }
    actual = {key: details.get(key) for key in expected}
    if actual != expected:
        raise SmokeError(
            f"{local.name!r} is described as {actual}; uploaded {expected}"
        )
    if not details.get("download_url"):
        raise SmokeError(f"{local.name!r} is AVAILABLE but has no download_url")


def list_all(
    api: Api, params: dict[str, str], timeout: float
) -> tuple[list[dict[str, Any]], list[str], int]:
    """Every item and folder of a listing, page by page: (items, folders, pages)."""
    items: list[dict[str, Any]] = []
    folders: list[str] = []
    cursors: set[str] = set()
    deadline = time.monotonic() + timeout
    cursor = None
    while True:
        page = api.list_page({**params, "limit": PAGE_LIMIT, "cursor": cursor})
        items += page["items"]
        folders += [folder["name"] for folder in page["folders"]]
        entries = len(page["items"]) + len(page["folders"])
        where = f"listing {params}, page {len(cursors) + 1}"
        if entries > PAGE_LIMIT:
            raise SmokeError(f"{where} holds {entries} entries; limit={PAGE_LIMIT}")
        cursor = page["next_cursor"]
        if not cursor:
            return items, folders, len(cursors) + 1
        if entries < PAGE_LIMIT:
            raise SmokeError(
                f"{where} holds {entries} entries, not {PAGE_LIMIT}, yet a cursor "
                "follows: a page short of the limit must be the last"
            )
        if cursor in cursors or time.monotonic() > deadline:
            raise SmokeError(f"listing {params} does not end")
        cursors.add(cursor)


def check_once(listed: list[str], expected: set[str], what: str) -> None:
    counts = Counter(listed)
    missing = sorted(expected - counts.keys())
    doubled = sorted(key for key in expected if counts[key] > 1)
    if missing:
        raise SmokeError(f"{what}: {len(missing)} missing: {missing[:5]}")
    if doubled:
        raise SmokeError(f"{what}: {len(doubled)} listed twice or more: {doubled[:5]}")


def check_items(files: list[Uploaded], items: list[dict[str, Any]], what: str) -> None:
    """Each file listed once, by its name, and the names in order."""
    by_id = {file.file_id: file for file in files}
    check_once([item["file_id"] for item in items], set(by_id), f"{what}, files")
    for item in items:
        file = by_id.get(item["file_id"])
        if file and (item["name"], item["status"]) != (file.local.name, "AVAILABLE"):
            raise SmokeError(
                f"{what}: {file.local.name!r} listed as {item['name']!r} "
                f"({item['status']})"
            )
    names = [item["name"] for item in items]
    if names != sorted(names):
        raise SmokeError(f"{what}: names are not in order: {names}")


def list_paged(api: Api, files: list[Uploaded], prefix: str, timeout: float) -> int:
    """List everything under the prefix; every file once. Returns the pages."""
    items, _, pages = list_all(api, {"prefix": prefix}, timeout)
    check_items(files, items, f"listing of {prefix!r}")
    return pages


def list_top_level(api: Api, files: list[Uploaded], prefix: str, timeout: float) -> int:
    """List the prefix's own level: its files and its immediate folders."""
    items, folders, pages = list_all(api, {"prefix": prefix, "delimiter": "/"}, timeout)
    what = f"listing of {prefix!r} with delimiter '/'"
    top = {file.file_id: file for file in files}
    sub_folders = set()
    for file in files:
        first, slash, _ = file.local.name[len(prefix) :].partition("/")
        if slash:
            sub_folders.add(f"{prefix}{first}/")
            del top[file.file_id]
    nested_ids = {file.file_id for file in files} - top.keys()
    nested = [item["name"] for item in items if item["file_id"] in nested_ids]
    if nested:
        raise SmokeError(f"{what}: lists files of its sub-folders: {nested[:5]}")
    check_items(list(top.values()), items, what)
    check_once(folders, sub_folders, f"{what}, folders")
    return pages


def check_download(file: Uploaded) -> None:
    local = file.local
    size, sha256, disposition = download(file.details["download_url"], local.name)
    if (size, sha256) != (local.size, local.sha256):
        raise SmokeError(
            f"download of {local.name!r} is {size} bytes, SHA-256 {sha256}; "
            f"uploaded {local.size} bytes, SHA-256 {local.sha256}"
        )
    last_segment = local.name.rsplit("/", 1)[-1]
    if filename_star(disposition) != last_segment:
        raise SmokeError(
            f"download of {local.name!r} has Content-Disposition {disposition!r}; "
            f"its filename* should carry {last_segment!r}"
        )


def delete_all(api: Api, files: list[Uploaded]) -> None:
    for file in files:
        answer = api.delete(file.file_id)
        if answer.get("status") != "DELETING":
            raise SmokeError(f"DELETE of {file.local.name!r} answered {answer}")


def wait_gone(api: Api, files: list[Uploaded], timeout: float) -> None:
    def settled(file: Uploaded) -> bool:
        details = api.describe(file.file_id)
        if details is not None and details.get("status") != "DELETING":
            raise SmokeError(
                f"{file.local.name!r} is {details.get('status')} after its delete"
            )
        return details is None

    waiting = wait_for(files, settled, timeout)
    if waiting:
        raise SmokeError(
            f"{len(waiting)} file(s) still there (DELETING) {timeout:.0f} s after "
            f"their delete: {names_of(waiting)}"
        )


def read_feed(api: Api, cursor: str) -> tuple[list[dict[str, Any]], str]:
    """Every change after `cursor` that the feed holds now; the new cursor."""
    changes: list[dict[str, Any]] = []
    while True:
        page = api.changes(cursor)
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["has_more"]:
            return changes, cursor


def check_feed(api: Api, files: list[Uploaded], cursor: str, timeout: float) -> int:
    """The feed shows each file created, then deleted, exactly once each."""
    ours = {file.file_id: file for file in files}
    seen: dict[str, list[dict[str, Any]]] = {file_id: [] for file_id in ours}
    deadline = time.monotonic() + timeout
    while True:
        changes, cursor = read_feed(api, cursor)
        for change in changes:
            if change["file_id"] in seen:
                seen[change["file_id"]].append(change)
        done = all(len(found) >= 2 for found in seen.values())
        if done or time.monotonic() > deadline:
            break
        time.sleep(POLL_INTERVAL_SECONDS)
    for file_id, found in seen.items():
        in_order = sorted(found, key=lambda change: change["sequence"])
        kinds = [change["type"] for change in in_order]
        if kinds != ["created", "deleted"]:
            raise SmokeError(
                f"the change feed shows {kinds} for {ours[file_id].local.name!r}; "
                "expected created, then deleted, once each"
            )
    return sum(len(found) for found in seen.values())


# --- the run -----------------------------------------------------------------


@dataclass
class StepResult:
    step: str
    count: int = 0
    millis: float = 0.0


@dataclass
class Report:
    """Times each step and gives each its own trace id."""

    run_id: str
    api: Api | None = None
    steps: list[StepResult] = field(default_factory=list)
    current: str = "start"

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[StepResult]:
        self.current = name
        if self.api:
            self.api.trace_id = self.trace_id(name)
        result = StepResult(name)
        started = time.perf_counter()
        yield result
        result.millis = (time.perf_counter() - started) * 1000
        self.steps.append(result)

    def trace_id(self, step: str) -> str:
        return f"smoke-{self.run_id}-{step.replace(' ', '-')}"

    def print_table(self) -> None:
        print(f"{'step':<16} {'count':>6} {'duration (ms)':>14}")
        for result in self.steps:
            print(f"{result.step:<16} {result.count:>6} {result.millis:>14.0f}")
        total = sum(result.millis for result in self.steps)
        print(f"{'total':<16} {'':>6} {total:>14.0f}")


def round_trip(
    report: Report, api: Api, files: list[LocalFile], prefix: str, timeout: float
) -> None:
    """Create, upload, list, download and delete every file, step by step."""
    created: list[Uploaded] = []
    cursor = api.latest_change()
    try:
        with report.step("create") as step:
            create_all(api, files, created)
            step.count = len(created)
        with report.step("upload") as step:
            for file in created:
                upload(file.form, file.local)
            step.count = len(created)
        with report.step("wait available") as step:
            wait_available(api, created, timeout)
            step.count = len(created)
        with report.step("list paged") as step:
            step.count = list_paged(api, created, prefix, timeout)
        with report.step("list top level") as step:
            step.count = list_top_level(api, created, prefix, timeout)
        with report.step("download") as step:
            for file in created:
                check_download(file)
            step.count = len(created)
        with report.step("delete") as step:
            delete_all(api, created)
            step.count = len(created)
    except BaseException:
        clean_up(api, created, report.trace_id("cleanup"))
        raise
    with report.step("wait gone") as step:
        wait_gone(api, created, timeout)
        step.count = len(created)
    with report.step("change feed") as step:
        step.count = check_feed(api, created, cursor, timeout)


def clean_up(api: Api, created: list[Uploaded], trace_id: str) -> None:
    """Best effort: delete what a failed run created, so it leaves nothing."""
    api.trace_id = trace_id
    for file in created:
        with contextlib.suppress(SmokeError):
            api.delete(file.file_id, expect=(202, 404))
    if created:
        warn(f"asked to delete the {len(created)} file(s) this run created")


def smoke(args: argparse.Namespace, report: Report) -> int:
    stack = Stack.from_args(args)
    if not args.folder.is_dir():
        raise SmokeError(f"{args.folder} is not a folder")
    prefix = args.prefix
    if prefix is None:
        prefix = f"smoke-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{report.run_id}/"
    with report.step("sign in") as step:
        token = sign_in(stack)
        step.count = 1
    with report.step("read folder") as step:
        files = collect(args.folder, prefix)
        step.count = len(files)
    print(
        f"smoke: run {report.run_id}: {len(files)} file(s) from {args.folder} "
        f"as {prefix!r} on {stack.api_url}"
    )
    report.api = Api(stack.api_url, token)
    round_trip(report, report.api, files, prefix, args.timeout)
    return len(files)


# --- the command line --------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Smoke-test a file manager stage with the files of a folder."
    )
    parser.add_argument("folder", type=Path, help="the folder to upload, recursively")
    parser.add_argument(
        "--stack",
        type=Path,
        help=f"the stack's coordinates (default {DEFAULT_STACK_FILE}, if there)",
    )
    parser.add_argument("--api-url", help="the API's base URL")
    parser.add_argument("--username", help="a Cognito user of the stage")
    parser.add_argument("--password", help="that user's password")
    parser.add_argument("--region", help="the stage's AWS region")
    parser.add_argument("--client-id", help="the Cognito app client's id")
    parser.add_argument("--endpoint-url", help="a local AWS endpoint (moto)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds each waiting or listing step may take (default 60)",
    )
    parser.add_argument(
        "--prefix",
        help="put the files under this name prefix (default: a fresh smoke-... "
        "folder, so runs never collide)",
    )
    args = parser.parse_args(argv)
    if args.stack is None and DEFAULT_STACK_FILE.is_file():
        args.stack = DEFAULT_STACK_FILE
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = Report(run_id=uuid.uuid4().hex[:8])
    try:
        count = smoke(args, report)
    except SmokeError as exc:
        if report.steps:
            report.print_table()
        print(f"smoke: FAILED at step {report.current!r}: {exc}", file=sys.stderr)
        return 1
    report.print_table()
    print(f"smoke: OK, {count} file(s) created, listed, downloaded and deleted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
