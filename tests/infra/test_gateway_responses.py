"""API Gateway's own error answers: our JSON shape, our codes, CORS headers."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.validate import validate_parameters

from chalicelib.errors import (
    DependencyUnavailableError,
    PayloadTooLargeError,
    UnauthorizedError,
)
from chalicelib.tracing import TRACE_HEADER
from chalicelib.web import CORS
from infra.gateway_responses import (
    GATEWAY_RESPONSES,
    GatewayResponse,
    cors_parameters,
    put_arguments,
    sample_body,
)

REQUIRED_TYPES = {
    "UNAUTHORIZED",
    "ACCESS_DENIED",
    "REQUEST_TOO_LARGE",
    "DEFAULT_4XX",
    "DEFAULT_5XX",
    "MISSING_AUTHENTICATION_TOKEN",
}
BY_TYPE = {response.response_type: response for response in GATEWAY_RESPONSES}


def _type(response: GatewayResponse) -> str:
    return response.response_type


def test_every_error_api_gateway_answers_itself_has_a_response() -> None:
    assert set(BY_TYPE) >= REQUIRED_TYPES
    assert len(BY_TYPE) == len(GATEWAY_RESPONSES)


@pytest.mark.parametrize("response", GATEWAY_RESPONSES, ids=_type)
def test_a_body_has_our_error_shape_with_api_gateways_message_intact(
    response: GatewayResponse,
) -> None:
    message = 'Unauthorized: "quotes", \\ and é survive'

    body = sample_body(response, message)

    assert set(body) == {"Code", "Message"}
    assert body["Message"] == message
    assert body["Code"].isalpha()


@pytest.mark.parametrize(
    ("response_type", "code"),
    [
        ("UNAUTHORIZED", UnauthorizedError.code),
        ("REQUEST_TOO_LARGE", PayloadTooLargeError.code),
        ("DEFAULT_5XX", DependencyUnavailableError.code),
    ],
)
def test_api_gateway_uses_the_code_our_routes_use_for_the_same_answer(
    response_type: str, code: str
) -> None:
    assert sample_body(BY_TYPE[response_type])["Code"] == code


def test_a_path_no_route_has_answers_404_not_403() -> None:
    response = BY_TYPE["MISSING_AUTHENTICATION_TOKEN"]

    assert response.status == "404"
    assert sample_body(response)["Code"] == "NotFound"


def test_every_response_carries_the_routes_own_cors_headers() -> None:
    expected = CORS.get_access_control_headers()

    parameters = cors_parameters("*")

    assert parameters == {
        f"gatewayresponse.header.{name}": f"'{value}'"
        for name, value in expected.items()
    }
    headers = parameters["gatewayresponse.header.Access-Control-Allow-Headers"]
    assert "Authorization" in headers
    assert TRACE_HEADER in headers
    assert (
        TRACE_HEADER
        in parameters["gatewayresponse.header.Access-Control-Expose-Headers"]
    )


def test_a_response_names_the_stages_origin_not_this_processs() -> None:
    parameters = cors_parameters("https://files.example.com")

    origin = parameters["gatewayresponse.header.Access-Control-Allow-Origin"]

    assert origin == "'https://files.example.com'"


@pytest.mark.parametrize("response", GATEWAY_RESPONSES, ids=_type)
def test_the_put_arguments_are_what_api_gateway_accepts(
    response: GatewayResponse,
) -> None:
    model = botocore.session.get_session().get_service_model("apigateway")
    shape = model.operation_model("PutGatewayResponse").input_shape

    validate_parameters(put_arguments(response, "abc123", "*"), shape)
