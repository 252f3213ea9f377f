"""Exception handlers: a JSON problem body for the API, an error page or a redirect for the browser.

No handler shows a traceback, a setting or a secret. Unexpected errors get an error id that is
logged with the traceback, so support can find the cause from what the user reports.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from governance.auth import API_PREFIX
from governance.errors import DomainError

logger = logging.getLogger(__name__)

_MSGSPEC_PATH = re.compile(r"at `\$\.?([^`]*)`")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX) or request.url.path in {"/health"}


def _json(status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(content=body, status_code=status_code, headers=headers, media_type="application/json")


def _error_page(request: Request, status_code: int, title: str, message: str) -> Template:
    return Template(
        template_name="error.html",
        context={"title": title, "message": message, "status_code": status_code},
        status_code=status_code,
    )


def handle_domain_error(request: Request, error: DomainError) -> Response | Template:
    if error.status_code >= 500:
        logger.error("%s on %s %s: %s", type(error).__name__, request.method, request.url.path, error)
    else:
        logger.info("%s on %s %s: %s", type(error).__name__, request.method, request.url.path, error)

    if _wants_json(request):
        return _json(error.status_code, error.as_dict())
    titles = {403: "You cannot do this", 404: "Page not found", 409: "This could not be done", 429: "Too many attempts"}
    return _error_page(request, error.status_code, titles.get(error.status_code, "There is a problem"), error.message)


def _field_errors(error: ValidationException) -> list[dict[str, str]]:
    """Turn Litestar's validation details (from msgspec) into field/message pairs."""
    fields = []
    extra = error.extra if isinstance(error.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid value"))
        key = item.get("key")
        if not key:
            match = _MSGSPEC_PATH.search(message)
            key = match.group(1) if match else "body"
        unknown = re.search(r"unknown field `([^`]+)`", message)
        if unknown:
            key = unknown.group(1)
            message = "unknown field; remove it (see /schema for the accepted fields)"
        message = _MSGSPEC_PATH.sub("", message).rstrip(" -")
        fields.append({"field": key or "body", "message": message})
    return fields or [{"field": "body", "message": error.detail or "invalid request body"}]


def handle_validation_error(request: Request, error: ValidationException) -> Response | Template:
    fields = _field_errors(error)
    logger.info("invalid input on %s %s: %s", request.method, request.url.path, fields)
    if _wants_json(request):
        summary = "; ".join(f"{item['field']}: {item['message']}" for item in fields)
        return _json(422, {"status_code": 422, "detail": summary, "errors": fields})
    return _error_page(request, 400, "There is a problem with what you sent", fields[0]["message"])


def handle_not_authorised(request: Request, error: NotAuthorizedException) -> Response | Redirect:
    if _wants_json(request):
        return _json(401, {"status_code": 401, "detail": error.detail}, headers=error.headers)
    target = request.url.path
    if request.url.query:
        target += f"?{request.url.query}"
    return Redirect(path=f"/sign-in?next={quote(target, safe='/')}", status_code=303)


def handle_permission_denied(request: Request, error: PermissionDeniedException) -> Response | Template:
    logger.info("permission denied on %s %s: %s", request.method, request.url.path, error.detail)
    if _wants_json(request):
        return _json(403, {"status_code": 403, "detail": error.detail})
    message = error.detail
    if "CSRF" in message:
        message = (
            "The form could not be accepted because its security token was missing or out of date. "
            "Go back, reload the page and try again."
        )
    return _error_page(request, 403, "You cannot do this", message)


def handle_http_error(request: Request, error: HTTPException) -> Response | Template:
    status_code = error.status_code
    detail = error.detail
    if status_code == 413:
        detail = "The request body is too large. Send less data, or split it into several requests."
    if status_code >= 500:
        return handle_unexpected_error(request, error)
    if _wants_json(request):
        return _json(status_code, {"status_code": status_code, "detail": detail})
    titles = {404: "Page not found", 405: "This page cannot be used that way"}
    return _error_page(request, status_code, titles.get(status_code, "There is a problem"), detail)


def handle_unexpected_error(request: Request, error: Exception) -> Response | Template:
    error_id = uuid.uuid4().hex[:12]
    logger.error(
        "unexpected error %s on %s %s", error_id, request.method, request.url.path, exc_info=error
    )
    message = f"Something went wrong on our side. Quote error id {error_id} when you report it."
    if _wants_json(request):
        return _json(500, {"status_code": 500, "detail": message, "error_id": error_id})
    return _error_page(request, HTTP_500_INTERNAL_SERVER_ERROR, "Sorry, there is a problem with the service", message)


EXCEPTION_HANDLERS = {
    DomainError: handle_domain_error,
    ValidationException: handle_validation_error,
    NotAuthorizedException: handle_not_authorised,
    PermissionDeniedException: handle_permission_denied,
    HTTPException: handle_http_error,
    Exception: handle_unexpected_error,
}
