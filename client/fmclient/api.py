"""The file manager's HTTP API, as documented in chalicelib/openapi.json.

Every call carries a fresh ID token: one about to expire is refreshed first,
and a 401 (the token was revoked, or a clock is off) gets one refresh and
one more try before the user is asked to sign in again.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from fmclient import __version__
from fmclient.errors import ApiError, SignInRequired
from fmclient.retry import RETRY_STATUSES, Retry
from fmclient.session import CognitoAuth, Session, SessionStore
from fmclient.target import Target

FILE_ID = re.compile(r"[0-9a-f]{32}")
IDEMPOTENCY_HEADER = "Idempotency-Key"
TRACE_HEADER = "X-Trace-Id"
MAX_PAGE_SIZE = 1000
HTTP_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = f"fm/{__version__}"


def new_http_client() -> httpx.Client:
    return httpx.Client(timeout=HTTP_TIMEOUT, headers={"User-Agent": USER_AGENT})


def api_error(response: httpx.Response) -> ApiError:
    """Our error shape, or whatever a proxy in front of the API said."""
    try:
        body = response.json()
    except ValueError:
        body = None
    trace = response.headers.get(TRACE_HEADER)
    if isinstance(body, dict) and "Code" in body:
        code = str(body["Code"])
        message = str(body.get("Message", code))
        details = body.get("Details")
        if code == "QuotaExceeded":
            message = _quota_message(details) or message
        return ApiError(response.status_code, code, message, details, trace)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        # API Gateway's own answers (an unknown route, throttling) say
        # {"message": ...}.
        text = body["message"][:200]
    else:
        text = " ".join(response.text.split())[:200] or response.reason_phrase
    return ApiError(
        response.status_code, f"HTTP{response.status_code}", text, None, trace
    )


def _quota_message(details: Any) -> str | None:
    try:
        files, size = details["files"], details["bytes"]
        return (
            f"over your quota: you store {files['used']:,} of {files['limit']:,} "
            f"files and {size['used']:,} of {size['limit']:,} bytes, and this "
            f"file needs {details['requested_bytes']:,} more; delete some first"
        )
    except (KeyError, TypeError):
        return None


class Api:
    def __init__(
        self,
        target: Target,
        store: SessionStore,
        *,
        http: httpx.Client | None = None,
        retry: Retry | None = None,
    ) -> None:
        self.target = target
        self._store = store
        self._http = http or new_http_client()
        self._retry = retry or Retry()
        self._auth = CognitoAuth(target, self._http, self._retry)
        self._lock = threading.Lock()
        self._session: Session | None = None

    @property
    def retry(self) -> Retry:
        return self._retry

    def close(self) -> None:
        self._http.close()

    # --- the session -------------------------------------------------------

    def sign_in(self, username: str, password: str) -> Session:
        session = self._auth.sign_in(username, password)
        self._store.save(self.target, session)
        self._session = session
        return session

    def sign_out(self) -> bool:
        self._session = None
        return self._store.forget(self.target)

    def session(self) -> Session:
        """A session whose ID token has some life left."""
        with self._lock:
            session = self._session or self._store.load(self.target)
            if session is None:
                raise SignInRequired(
                    f"not signed in to {self.target.api_url}: run `fm login`"
                )
            if not session.fresh():
                session = self._refresh(session)
            self._session = session
            return session

    def _refresh(self, session: Session) -> Session:
        try:
            renewed = self._auth.refresh(session)
        except SignInRequired:
            self._store.forget(self.target)
            raise
        self._store.save(self.target, renewed)
        return renewed

    def _refresh_after_401(self, stale_token: str) -> None:
        with self._lock:
            current = self._session or self._store.load(self.target)
            # Another thread may have refreshed already.
            if current is not None and current.id_token != stale_token:
                return
            if current is None:
                raise SignInRequired("signed out meanwhile: run `fm login`")
            self._session = self._refresh(current)

    # --- requests ------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        expected: tuple[int, ...] = (200,),
        retryable: Callable[[httpx.Response], bool] | None = None,
    ) -> Any:
        url = self.target.api_url.rstrip("/") + path
        query = {k: v for k, v in (params or {}).items() if v is not None}
        for attempt in range(2):
            token = self.session().id_token

            def call(token: str = token) -> httpx.Response:
                return self._http.request(
                    method,
                    url,
                    params=query,
                    json=body,
                    headers={**(headers or {}), "Authorization": token},
                )

            response = self._retry.run(call, retryable or _retry_api)
            if response.status_code == 401 and attempt == 0:
                self._refresh_after_401(token)
                continue
            if response.status_code == 401:
                raise SignInRequired(
                    "the API refused the session even after a refresh: "
                    "sign in again with `fm login`"
                )
            if response.status_code not in expected:
                raise api_error(response)
            return response.json() if response.content else None
        raise AssertionError("unreachable: the second try returns or raises")

    # --- routes --------------------------------------------------------------

    def create_file(
        self,
        name: str,
        size: int,
        content_type: str,
        sha256: str | None,
        idempotency_key: str,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": name,
            "size": size,
            "content_type": content_type,
        }
        if sha256 is not None:
            body["sha256"] = sha256
        created: dict[str, Any] = self.request(
            "POST",
            "/files",
            body=body,
            # The same key makes a retried create return the same file.
            headers={IDEMPOTENCY_HEADER: idempotency_key},
            expected=(200, 201),
        )
        return created

    def list_page(
        self,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        params = {
            "prefix": prefix or None,
            "delimiter": delimiter,
            "limit": limit,
            "cursor": cursor,
        }
        page: dict[str, Any] = self.request("GET", "/files", params=params)
        return page

    def pages(
        self, prefix: str = "", *, delimiter: str | None = None, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            page = self.list_page(
                prefix, delimiter=delimiter, limit=page_size, cursor=cursor
            )
            yield page
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def describe(self, file_id: str) -> dict[str, Any]:
        details: dict[str, Any] = self.request("GET", f"/files/{file_id}")
        return details

    def delete(self, file_id: str) -> dict[str, Any]:
        accepted: dict[str, Any] = self.request(
            "DELETE", f"/files/{file_id}", expected=(200, 202), retryable=_retry_delete
        )
        return accepted

    def rename(self, file_id: str, name: str) -> dict[str, Any]:
        # Asking again for the same name changes nothing, so a retry is safe.
        renamed: dict[str, Any] = self.request(
            "PATCH", f"/files/{file_id}", body={"name": name}
        )
        return renamed

    def trash(self, file_id: str) -> dict[str, Any]:
        trashed: dict[str, Any] = self.request("POST", f"/files/{file_id}/trash")
        return trashed

    def restore(self, file_id: str) -> dict[str, Any]:
        restored: dict[str, Any] = self.request("POST", f"/files/{file_id}/restore")
        return restored

    def trash_page(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> dict[str, Any]:
        page: dict[str, Any] = self.request(
            "GET", "/trash", params={"limit": limit, "cursor": cursor}
        )
        return page

    def trash_pages(self, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            page = self.trash_page(limit=page_size, cursor=cursor)
            yield page
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def find_trashed(self, name_or_id: str) -> dict[str, Any]:
        """A trashed file by its id, or by the name it had (the most recently
        trashed of that name: the trash may hold several)."""
        if FILE_ID.fullmatch(name_or_id):
            return self.describe(name_or_id)
        name = unicodedata.normalize("NFC", name_or_id)
        # LIMITATION: GET /trash has no prefix filter, so finding a name reads
        # the trash page by page until it turns up.
        for page in self.trash_pages(page_size=MAX_PAGE_SIZE):
            for item in page["items"]:
                if item["name"] == name:
                    return dict(item)
        raise ApiError(
            404, "FileNotFound", f"no file named {name_or_id!r} in the trash"
        )

    def latest_cursor(self) -> str:
        return str(self.request("GET", "/changes/latest")["cursor"])

    def changes(self, cursor: str | None, limit: int | None = None) -> dict[str, Any]:
        page: dict[str, Any] = self.request(
            "GET", "/changes", params={"cursor": cursor, "limit": limit}
        )
        return page

    def usage(self) -> dict[str, Any]:
        usage: dict[str, Any] = self.request("GET", "/usage")
        return usage

    def find(self, name_or_id: str) -> dict[str, Any]:
        """An available file by its name; by its id if no file has that name."""
        name = unicodedata.normalize("NFC", name_or_id)
        page = self.list_page(name, limit=2)
        for item in page["items"]:
            if item["name"] == name:
                return dict(item)
        if FILE_ID.fullmatch(name_or_id):
            return self.describe(name_or_id)
        raise ApiError(404, "FileNotFound", f"no file named {name_or_id!r}")


def _retry_api(response: httpx.Response) -> bool:
    return response.status_code in RETRY_STATUSES


def _retry_delete(response: httpx.Response) -> bool:
    # ConcurrentUpdate: a simultaneous change to the same file; the API
    # asks for a retry.
    if response.status_code == 409:
        return api_error(response).code == "ConcurrentUpdate"
    return _retry_api(response)
