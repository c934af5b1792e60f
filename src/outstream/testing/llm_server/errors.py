"""Errors in each provider's own shape, for the loopback LLM server.

The status and JSON body that OpenAI, Anthropic and Ollama send when they
refuse a request (a bad or missing key, no such model, a rate limit, a
server error, a body that is not JSON, an unknown path), with the requested
model and the masked key filled in as the services do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from .wire import OPENAI_SERVER_ERROR, hex_token

__all__ = ["Api", "error_response"]

Api = Literal["openai", "anthropic", "ollama"]

# failure -> (status, type, code, message); {model} and {key} are filled in.
_OPENAI_ERRORS: Mapping[str, tuple[int, str, str | None, str]] = {
    "http_401": (
        401,
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com/account/api-keys.",
    ),
    "http_401_missing": (
        401,
        "invalid_request_error",
        None,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
    ),
    "http_403": (
        403,
        "invalid_request_error",
        "model_not_found",
        "Project `proj_outstream` does not have access to model `{model}`",
    ),
    "http_404_model": (
        404,
        "invalid_request_error",
        "model_not_found",
        "The model `{model}` does not exist or you do not have access to it.",
    ),
    "http_429": (
        429,
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for {model} in organization org-outstream on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.",
    ),
    "http_500": (500, "server_error", None, OPENAI_SERVER_ERROR),
    "bad_json": (
        400,
        "invalid_request_error",
        None,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
    ),
    "bad_url": (404, "invalid_request_error", None, "Invalid URL ({method} {path})"),
}

# failure -> (status, error.type, message)
_ANTHROPIC_ERRORS: Mapping[str, tuple[int, str, str]] = {
    "http_401": (401, "authentication_error", "invalid x-api-key"),
    "http_401_missing": (401, "authentication_error", "x-api-key header is required"),
    "http_403": (
        403,
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    ),
    "http_404_model": (404, "not_found_error", "model: {model}"),
    "http_429": (
        429,
        "rate_limit_error",
        "This request would exceed the rate limit for your organization (org-outstream) of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.",
    ),
    "http_500": (500, "api_error", "Internal server error"),
    "bad_json": (
        400,
        "invalid_request_error",
        "There was an issue with the formatting or content of your request.",
    ),
    "bad_url": (404, "not_found_error", "Not Found"),
}

# failure -> (status, error)
_OLLAMA_ERRORS: Mapping[str, tuple[int, str]] = {
    "http_401": (401, "unauthorized: invalid API key"),
    "http_401_missing": (401, "unauthorized: missing API key"),
    "http_403": (403, 'forbidden: access to model "{model}" is denied'),
    "http_404_model": (404, 'model "{model}" not found, try pulling it first'),
    "http_429": (429, "too many requests: rate limit exceeded, please try again later"),
    "http_500": (500, "llama runner process has terminated: exit status 2"),
    "bad_json": (400, "invalid character 'o' looking for beginning of value"),
}


def _masked_key(headers: Mapping[str, str], api: Api) -> str | None:
    if api == "anthropic" and "x-api-key" in headers:
        key = headers["x-api-key"]
    else:
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            return None
        key = auth[7:].strip()
    if not key:
        return None
    # The API shows a long key with its middle hidden, a short one as it is.
    return key[:3] + "*" * (len(key) - 7) + key[-4:] if len(key) > 12 else key


def error_response(
    api: Api,
    kind: str,
    *,
    model: str,
    headers: Mapping[str, str],
    path: str = "",
    method: str = "",
    message: str | None = None,
) -> tuple[int, dict[str, object]]:
    """The provider's error body for `kind`; `message` instead of its text, if given."""
    status, body = _provider_error(
        api, kind, model=model, headers=headers, path=path, method=method
    )
    if message is not None:
        error = body["error"]
        if isinstance(error, dict):
            error["message"] = message
        else:
            body["error"] = message
    return status, body


def _provider_error(
    api: Api, kind: str, *, model: str, headers: Mapping[str, str], path: str, method: str
) -> tuple[int, dict[str, object]]:
    key = _masked_key(headers, api)
    if kind == "http_401" and key is None:
        kind = "http_401_missing"
    if api == "ollama" and kind == "bad_url":
        raise AssertionError("Ollama's unknown paths are plain text")
    values = {"model": model, "key": key or "", "path": path, "method": method}
    if api == "openai":
        status, type_, code, message = _OPENAI_ERRORS[kind]
        error = {"message": message.format(**values), "type": type_, "param": None, "code": code}
        return status, {"error": error}
    if api == "anthropic":
        status, type_, message = _ANTHROPIC_ERRORS[kind]
        return status, {
            "type": "error",
            "error": {"type": type_, "message": message.format(**values)},
            "request_id": "req_011" + hex_token(10),
        }
    status, message = _OLLAMA_ERRORS[kind]
    return status, {"error": message.format(**values)}
