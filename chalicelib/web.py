"""Between HTTP and the services: typed requests in, JSON answers out.

Every route runs through `ApiRoutes.handler`, which gives the call its trace
id, checks the caller, turns the body or query into a model, and maps every
outcome, error or not, to one JSON shape with the trace id in a header.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from chalice import Chalice, CognitoUserPoolAuthorizer, CORSConfig, Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from chalicelib.auth import Caller, authenticate
from chalicelib.errors import (
    BadRequestError,
    FileManagerError,
    PayloadTooLargeError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    ValidationFailedError,
)
from chalicelib.settings import get_settings
from chalicelib.tracing import TRACE_HEADER, accept_trace_id, traced

logger = logging.getLogger(__name__)

Model = TypeVar("Model", bound=BaseModel)

# Visible ASCII: a key is compared byte for byte, so nothing that a proxy
# might fold or trim.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,255}$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)

# Our bodies are metadata only; the bytes of a file never pass through here.
MAX_BODY_BYTES = 16 * 1024

# Callers send a bearer token, never a cookie, so any origin may call by
# default; a stage that serves its page from one origin names it here.
CORS_ORIGIN_VARIABLE = "CORS_ALLOW_ORIGIN"
IDEMPOTENCY_HEADER = "Idempotency-Key"

CORS = CORSConfig(
    allow_origin=os.environ.get(CORS_ORIGIN_VARIABLE, "*"),
    allow_headers=["Authorization", "Content-Type", TRACE_HEADER, IDEMPOTENCY_HEADER],
    expose_headers=[TRACE_HEADER],
    max_age=600,
)


def _problems(error: ValidationError) -> list[dict[str, str]]:
    return [
        {
            "field": ".".join(str(part) for part in problem["loc"]) or "(body)",
            "problem": problem["msg"],
        }
        for problem in error.errors(include_url=False, include_input=False)
    ]


def validation_error(error: ValidationError, what: str) -> ValidationFailedError:
    problems = _problems(error)
    summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return ValidationFailedError(f"{what} is not valid: {summary}", details=problems)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # With a key given twice, parsers disagree on which value counts (Python
    # takes the last); a 400 leaves no room for a proxy and us to differ.
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"key {key!r} is given more than once")
        document[key] = value
    return document


class ApiCall:
    """One request, as the route functions see it."""

    def __init__(self, request: Request, path: Mapping[str, str], trace_id: str):
        self._request = request
        self.path = dict(path)
        self.trace_id = trace_id
        self._caller: Caller | None = None

    @property
    def caller(self) -> Caller:
        if self._caller is None:
            self._caller = authenticate(
                self._request.headers.get("authorization"), get_settings()
            )
        return self._caller

    @property
    def idempotency_key(self) -> str | None:
        key: str | None = self._request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return None
        if not _IDEMPOTENCY_KEY.fullmatch(key):
            raise ValidationFailedError(
                f"header {IDEMPOTENCY_HEADER} must be 1 to 255 visible ASCII "
                "characters",
                details=[{"field": IDEMPOTENCY_HEADER, "problem": "malformed"}],
            )
        return key

    def no_body(self) -> None:
        """Refuse a body on a route that reads none, rather than ignore it."""
        if self._request.raw_body:
            raise BadRequestError("this route takes no request body")

    def body(self, model: type[Model]) -> Model:
        raw = self._request.raw_body or b""
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLargeError(
                f"request body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES} "
                "(upload the file's bytes to the presigned URL, not here)"
            )
        media_type = self._request.headers.get("content-type", "").split(";")[0]
        if media_type.strip().lower() != "application/json":
            raise UnsupportedMediaTypeError("request body must be application/json")
        try:
            # JSON between systems is UTF-8 (RFC 8259); json.loads would also
            # guess UTF-16 or UTF-32 from raw bytes.
            document = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
        # ValueError covers bad UTF-8, bad JSON, a repeated key and numbers too
        # long to convert; nesting too deep for the parser is a RecursionError.
        except (ValueError, RecursionError) as exc:
            raise BadRequestError(f"request body is not valid JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise BadRequestError("request body must be a JSON object")
        try:
            return model.model_validate(document)
        except ValidationError as exc:
            raise validation_error(exc, "request body") from exc

    def query(self, model: type[Model]) -> Model:
        # Chalice's MultiDict; {} without a query, which is never asked getlist.
        params: Any = self._request.query_params or {}
        repeated = sorted(k for k in params if len(params.getlist(k)) > 1)
        if repeated:
            # Which of two values to take is a guess; a clear 400 is not.
            raise BadRequestError(
                f"query parameter {repeated[0]!r} is given more than once"
            )
        try:
            return model.model_validate(dict(params))
        except ValidationError as exc:
            raise validation_error(exc, "query") from exc


def error_answer(error: FileManagerError, trace_id: str) -> Response:
    body: dict[str, Any] = {"Code": error.code, "Message": error.message}
    if error.details is not None:
        body["Details"] = error.details
    headers = {"Content-Type": "application/json", TRACE_HEADER: trace_id}
    if isinstance(error, UnauthorizedError):
        headers["WWW-Authenticate"] = 'Bearer realm="filemanager"'
    return Response(body=json.dumps(body), status_code=error.status, headers=headers)


def _answer(result: BaseModel, status: int, trace_id: str) -> Response:
    return Response(
        body=result.model_dump_json(),
        status_code=status,
        headers={"Content-Type": "application/json", TRACE_HEADER: trace_id},
    )


class ApiRoutes:
    """Decorates route functions of one Chalice app."""

    def __init__(self, app: Chalice) -> None:
        self._app = app

    def handler(
        self, status: int = 200, public: bool = False
    ) -> Callable[[Callable[[ApiCall], BaseModel]], Callable[..., Response]]:
        def decorate(route: Callable[[ApiCall], BaseModel]) -> Callable[..., Response]:
            @functools.wraps(route)
            def run(**path: str) -> Response:
                request = self._app.current_request
                trace_id = accept_trace_id(request.headers.get(TRACE_HEADER))
                with traced(trace_id):
                    return self._run(
                        route, ApiCall(request, path, trace_id), status, public
                    )

            return run

        return decorate

    @staticmethod
    def _run(
        route: Callable[[ApiCall], BaseModel], call: ApiCall, status: int, public: bool
    ) -> Response:
        try:
            if not public:
                _ = call.caller  # authenticate before reading anything else
            return _answer(route(call), status, call.trace_id)
        except FileManagerError as error:
            if error.status >= 500:
                logger.error("request failed", exc_info=error)
            return error_answer(error, call.trace_id)
        except Exception:
            logger.exception("unexpected error")
            return error_answer(
                FileManagerError(
                    f"unexpected error; quote trace id {call.trace_id} when reporting"
                ),
                call.trace_id,
            )


def gateway_authorizer() -> CognitoUserPoolAuthorizer | None:
    """API Gateway's Cognito authorizer for deployed stages; none locally.

    `chalice local` emulates this authorizer badly (it drops the connection
    on a malformed token before any app code runs), so the local stage sets
    AUTH_MODE=app and relies on the app's own check, which runs everywhere.
    """
    if os.environ.get("AUTH_MODE", "gateway") == "app":
        return None
    return CognitoUserPoolAuthorizer(
        "CognitoUsers",
        provider_arns=[os.environ.get("COGNITO_USER_POOL_ARN", "")],
        header="Authorization",
    )
