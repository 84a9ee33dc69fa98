"""API Gateway's own error answers, in our JSON shape and with CORS headers.

API Gateway answers some requests before our function runs: a bad or missing
token (401), a denied one (403), a body over its limit (413), a path no route
has (403 "Missing Authentication Token" by default), its own failures (5xx).
Without gateway responses those answers carry no CORS headers, so a browser
hides them from the page, and their body is not `{"Code", "Message"}`. The
deploy script puts these after `chalice deploy`, which has no setting for
them, then redeploys the API stage so they take effect.

Each body is a mapping template: `$context.error.messageString` is API
Gateway's own message, already quoted as a JSON string.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.web import CORS

MESSAGE = "$context.error.messageString"
ALLOW_ORIGIN = "Access-Control-Allow-Origin"


@dataclass(frozen=True)
class GatewayResponse:
    response_type: str
    code: str
    # None keeps API Gateway's own status for the type.
    status: str | None = None

    def template(self) -> str:
        return f'{{"Code": {json.dumps(self.code)}, "Message": {MESSAGE}}}'


GATEWAY_RESPONSES = (
    # Every 401 has one code: refresh the session once, then sign in again.
    GatewayResponse("UNAUTHORIZED", "Unauthorized"),
    GatewayResponse("ACCESS_DENIED", "Forbidden"),
    GatewayResponse("REQUEST_TOO_LARGE", "PayloadTooLarge"),
    # API Gateway's answer to a path or method no route has: a 404, as our
    # own routes answer for what does not exist.
    GatewayResponse("MISSING_AUTHENTICATION_TOKEN", "NotFound", status="404"),
    # Throttling would otherwise fall to DEFAULT_4XX and read as a bad request.
    GatewayResponse("THROTTLED", "TooManyRequests"),
    GatewayResponse("DEFAULT_4XX", "BadRequest"),
    GatewayResponse("DEFAULT_5XX", "ServiceUnavailable"),
)


def cors_parameters(origin: str) -> dict[str, str]:
    """The routes' own CORS headers, as gateway response parameters.

    The routes read their origin from the stage's environment when Lambda
    imports the app; this process has another, so the stage's is passed in.
    """
    headers = {**CORS.get_access_control_headers(), ALLOW_ORIGIN: origin}
    return {
        f"gatewayresponse.header.{name}": f"'{value}'"
        for name, value in headers.items()
    }


def put_arguments(
    response: GatewayResponse, rest_api_id: str, origin: str
) -> dict[str, Any]:
    """Keyword arguments of API Gateway's PutGatewayResponse for `response`."""
    arguments: dict[str, Any] = {
        "restApiId": rest_api_id,
        "responseType": response.response_type,
        "responseParameters": cors_parameters(origin),
        "responseTemplates": {"application/json": response.template()},
    }
    if response.status is not None:
        arguments["statusCode"] = response.status
    return arguments


def sample_body(response: GatewayResponse, message: str = "a message") -> Any:
    """The body a client gets, with API Gateway's message filled in."""
    return json.loads(response.template().replace(MESSAGE, json.dumps(message)))


def apply(apigateway: Any, rest_api_id: str, stage: str, origin: str) -> None:
    """Put every gateway response, then redeploy the stage to publish them."""
    for response in GATEWAY_RESPONSES:
        apigateway.put_gateway_response(**put_arguments(response, rest_api_id, origin))
    apigateway.create_deployment(
        restApiId=rest_api_id,
        stageName=stage,
        description="Gateway responses in the API's error shape",
    )
