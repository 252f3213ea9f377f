"""Exception handlers: a JSON problem body for the API, an error page or a redirect for the browser.

No handler shows a traceback, a setting or a secret. Unexpected errors get an error id that is
logged with the traceback, so support can find the cause from what the user reports.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import uuid
from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE

from governance.auth import API_PREFIX
from governance.database import DatabaseUnavailable, describe_error
from governance.errors import DomainError, InvalidInput, as_sentence
from governance.logs import escape_control_characters
from governance.web.forms import safe_next
from governance.web.input_guard import address_problem
from governance.settings import get_settings

logger = logging.getLogger(__name__)

_MSGSPEC_PATH = re.compile(r"at `\$\.?([^`]*)`")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX) or request.url.path in {"/health"}


def _logged_path(request: Request) -> str:
    """Return the request's path for a log line, with control characters such as %0a escaped."""
    return escape_control_characters(request.url.path)


def _caller(request: Request) -> str:
    """Name the caller for log lines: the username and how they signed in, or "anonymous"."""
    principal = request.scope.get("user")
    if principal is None:
        return "anonymous"
    return f"{principal.actor.username} ({principal.via} {principal.credential_id})"


def _json(status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(content=body, status_code=status_code, headers=headers, media_type="application/json")


def _error_page(
    request: Request,
    status_code: int,
    title: str,
    message: str,
    *,
    field_errors: list[tuple[str, str]] | None = None,
    back: str | None = None,
) -> Template:
    return Template(
        template_name="error.html",
        context={
            "title": title,
            "message": message,
            "status_code": status_code,
            "field_errors": field_errors or [],
            "back": back,
        },
        status_code=status_code,
    )


_PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def _has_get_route(request: Request, path: str) -> bool:
    """Return whether a page is served at ``path`` (a route with GET whose pattern matches it)."""
    for route in request.app.routes:
        if "GET" not in getattr(route, "methods", ()):
            continue
        pattern = _PATH_PARAMETER.sub("[^/]+", re.escape(route.path).replace(r"\{", "{").replace(r"\}", "}"))
        if re.fullmatch(pattern, path):
            return True
    return False


def form_address(request: Request) -> str | None:
    """Return the address of the form a rejected page post came from, or None if it is not known.

    That is the referring page when it is on this site, else the post's own address when a page
    is served there (``/use-cases/UC-001/edit``, for example).
    """
    referrer = urlsplit(request.headers.get("referer", ""))
    if referrer.path and referrer.netloc == request.url.netloc:
        target = referrer.path + (f"?{referrer.query}" if referrer.query else "")
        return safe_next(target, default="") or None
    if _has_get_route(request, request.url.path):
        return request.url.path
    return None


def _invalid_input_page(request: Request, error: InvalidInput) -> Template:
    """Render the error page for invalid input that no handler showed on its form: every field, and a way back."""
    from governance.history import generic_label

    field_errors = [(generic_label(item.field), as_sentence(item.message)) for item in error.errors]
    back = form_address(request) if request.method not in {"GET", "HEAD"} else None
    return _error_page(
        request,
        error.status_code,
        "There is a problem with what you sent",
        "Nothing was saved.",
        field_errors=field_errors,
        back=back,
    )


def handle_domain_error(request: Request, error: DomainError) -> Response | Template:
    level = logging.ERROR if error.status_code >= 500 else logging.INFO
    logger.log(
        level,
        "%s (%d) on %s %s for %s: %s",
        type(error).__name__,
        error.status_code,
        request.method,
        _logged_path(request),
        _caller(request),
        escape_control_characters(error.message),
    )

    # An InvalidInput message lists "field: problem" pairs, which start with the field's API name.
    message = error.message if isinstance(error, InvalidInput) else as_sentence(error.message)
    if _wants_json(request):
        return _json(error.status_code, {**error.as_dict(), "detail": message})
    if isinstance(error, InvalidInput):
        return _invalid_input_page(request, error)
    titles = {403: "You cannot do this", 404: "Page not found", 409: "This could not be done", 429: "Too many attempts"}
    return _error_page(request, error.status_code, titles.get(error.status_code, "There is a problem"), message)


_TYPE_NAMES = {
    "str": "text (a JSON string)",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "array": "a list (a JSON array)",
    "object": "an object",
    "null": "null",
    "date": "a date in the form YYYY-MM-DD",
    "datetime": "a date and time in RFC 3339 form, such as 2026-12-04T09:30:00Z",
    "time": "a time in the form HH:MM:SS",
}

# msgspec's messages for text that is not a valid date, datetime or time.
_RFC3339_MESSAGES = {
    "date": "must be a date in the form YYYY-MM-DD, such as 2027-03-31",
    "datetime": "must be a date and time in RFC 3339 form, such as 2026-12-04T09:30:00Z",
    "time": "must be a time in the form HH:MM:SS, such as 09:30:00",
}
MISSING_BODY_MESSAGE = "the request body is missing; send a JSON object"


def _describe_type(name: str) -> str:
    return " or ".join(_TYPE_NAMES.get(part.strip(" `"), part.strip(" `")) for part in name.split("|"))


def _explain(message: str) -> tuple[str | None, str]:
    """Translate one msgspec message into (field named inside it, message for people)."""
    unknown = re.search(r"unknown field `([^`]+)`", message)
    if unknown:
        return unknown.group(1), "unknown field; remove it (GET /schema lists the accepted fields)"
    missing = re.search(r"missing required field `([^`]+)`", message)
    if missing:
        return missing.group(1), "is required; send a value for it"
    rfc3339 = re.search(r"Invalid RFC3339 encoded (datetime|date|time)", message)
    if rfc3339:
        return None, _RFC3339_MESSAGES[rfc3339.group(1)]
    wrong_type = re.search(r"Expected `([^`]+)`, got `([^`]+)`", message)
    if wrong_type:
        expected, got = wrong_type.groups()
        return None, f"has the wrong type: expected {_describe_type(expected)}, got {_describe_type(got)}"
    return None, message


def _join_field(parent: str, child: str | None) -> str:
    if not child:
        return parent or "body"
    return f"{parent}.{child}" if parent else child


def _field_errors(error: ValidationException) -> list[dict[str, str]]:
    """Turn Litestar's validation details (from msgspec) into field/message pairs.

    Litestar reports a body error under the key ``data`` (the handler's body parameter) or under
    the path inside the body. Both become the field's name as the client sent it.
    """
    fields = []
    extra = error.extra if isinstance(error.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        raw_message = str(item.get("message", "invalid value"))
        key = str(item.get("key") or "")
        if item.get("source") == "body" and raw_message == f"'{key}'":
            # Litestar 2.25 reports a missing body as the KeyError of the handler's body parameter.
            fields.append({"field": "body", "message": MISSING_BODY_MESSAGE})
            continue
        path = _MSGSPEC_PATH.search(raw_message)
        if path:
            key = path.group(1)
        if key in {"data", "$"}:
            key = ""
        inner_field, message = _explain(_MSGSPEC_PATH.sub("", raw_message).rstrip(" -"))
        fields.append({"field": _join_field(key, inner_field), "message": message})
    if fields:
        return fields
    missing = _MISSING_PARAMETER.search(error.detail or "")
    if missing:
        source, name = missing.groups()
        where = {"query": f"add ?{name}=... to the address", "header": f"send the {name} header"}
        return [{"field": name, "message": f"is required; {where.get(source, 'send it')}"}]
    return [{"field": "body", "message": error.detail or "invalid request body"}]


# Litestar's message for a missing parameter outside the body, e.g. a required query parameter.
_MISSING_PARAMETER = re.compile(r"Missing required (\w+) parameter '([^']+)'")


def handle_validation_error(request: Request, error: ValidationException) -> Response | Template:
    fields = _field_errors(error)
    logger.info(
        "invalid input on %s %s for %s: %s",
        request.method,
        _logged_path(request),
        _caller(request),
        fields,
    )
    if _wants_json(request):
        summary = "; ".join(f"{item['field']}: {item['message']}" for item in fields)
        return _json(422, {"status_code": 422, "detail": summary, "errors": fields})
    return _error_page(request, 400, "There is a problem with what you sent", fields[0]["message"])


def handle_not_authorised(request: Request, error: NotAuthorizedException) -> Response | Redirect:
    logger.info(
        "not signed in on %s %s: %s",
        request.method,
        _logged_path(request),
        escape_control_characters(error.detail),
    )
    if _wants_json(request):
        return _json(401, {"status_code": 401, "detail": error.detail}, headers=error.headers)
    # Only a GET can be repeated after signing in; a form post goes back to the home page instead.
    target = "/"
    if request.method in {"GET", "HEAD"}:
        target = request.url.path
        if request.url.query:
            target += f"?{request.url.query}"
    return Redirect(path=f"/sign-in?next={quote(target, safe='/')}", status_code=303)


def handle_permission_denied(request: Request, error: PermissionDeniedException) -> Response | Template:
    logger.info(
        "permission denied on %s %s for %s: %s",
        request.method,
        _logged_path(request),
        _caller(request),
        escape_control_characters(error.detail),
    )
    if _wants_json(request):
        return _json(403, {"status_code": 403, "detail": error.detail})
    message = error.detail
    if "CSRF" in message:
        message = (
            "The form could not be accepted because its security token was missing or out of date. "
            "Go back, reload the page and try again."
        )
    return _error_page(request, 403, "You cannot do this", message)


def _too_large_message(request: Request) -> str:
    limit = get_settings().max_body_bytes
    return (
        f"The request body is larger than the limit of {limit:,} bytes ({limit / 1024:g} KiB), set by "
        "GOVERNANCE_MAX_BODY_BYTES. Send less data, or split it into several requests."
    )


def handle_http_error(request: Request, error: HTTPException) -> Response | Template:
    status_code = error.status_code
    if status_code in (404, 405):
        # The router returns 404 before the input guard runs, so an address with NUL becomes 400 here.
        problem = address_problem(request.scope)
        if problem is not None:
            return handle_domain_error(request, problem)
    detail = error.detail
    if status_code == 413:
        detail = _too_large_message(request)
    if status_code >= 500:
        return handle_unexpected_error(request, error)
    logger.info(
        "HTTP %d on %s %s for %s: %s",
        status_code,
        request.method,
        _logged_path(request),
        _caller(request),
        escape_control_characters(detail),
    )
    if status_code == 404 and request.url.path.startswith(API_PREFIX):
        detail = f"No API route matches {request.method} {request.url.path}; GET /schema lists the routes."
    if _wants_json(request):
        body: dict[str, Any] = {"status_code": status_code, "detail": detail}
        if status_code in (400, 413):
            body["errors"] = [{"field": "body", "message": detail}]
        return _json(status_code, body)
    titles = {404: "Page not found", 405: "This page cannot be used that way"}
    if status_code == 404:
        detail = "There is no page at this address. Check the address, or go to the home page."
    return _error_page(request, status_code, titles.get(status_code, "There is a problem"), detail)


# SQLSTATE codes and classes that mean the database cannot serve requests at the moment.
_UNAVAILABLE_SQLSTATES = ("08", "57P", "53300", "3D000")
_UNAVAILABLE_SQLITE = ("database is locked", "unable to open database file", "disk i/o error")


def is_database_unavailable(error: BaseException) -> bool:
    """Tell whether ``error``, or an error it was raised from, means the database is out of reach.

    Such errors are not bugs: the request can succeed later, so clients get 503 rather than 500.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (ConnectionError, DatabaseUnavailable)):
            return True
        sqlstate = str(getattr(current, "sqlstate", "") or "")
        if sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        if sqlstate == "55000" and "connections" in str(current):
            return True
        if isinstance(current, sqlite3.OperationalError) and str(current).lower().startswith(_UNAVAILABLE_SQLITE):
            return True
        if type(current).__name__ in {"InterfaceError", "ConnectionDoesNotExistError"}:
            return True
        current = current.__cause__ or current.__context__
    return False


def handle_unexpected_error(request: Request, error: Exception) -> Response | Template:
    error_id = uuid.uuid4().hex[:12]
    if is_database_unavailable(error):
        return _database_unavailable(request, error, error_id)
    logger.error(
        "unexpected error %s on %s %s for %s",
        error_id,
        request.method,
        _logged_path(request),
        _caller(request),
        exc_info=error,
    )
    message = f"Something went wrong on our side. Quote error id {error_id} when you report it."
    if _wants_json(request):
        return _json(500, {"status_code": 500, "detail": message, "error_id": error_id})
    return _error_page(request, HTTP_500_INTERNAL_SERVER_ERROR, "Sorry, there is a problem with the service", message)


def _database_unavailable(request: Request, error: Exception, error_id: str) -> Response | Template:
    logger.error(
        "database unavailable %s on %s %s for %s: %s",
        error_id,
        request.method,
        _logged_path(request),
        _caller(request),
        describe_error(error),
    )
    message = (
        "The database cannot be reached at the moment, so nothing was changed. Try again in a "
        f"minute; if it goes on, quote error id {error_id}."
    )
    headers = {"Retry-After": "30"}
    if _wants_json(request):
        return _json(503, {"status_code": 503, "detail": message, "error_id": error_id}, headers=headers)
    return Template(
        template_name="error.html",
        context={"title": "The service is not available at the moment", "message": message, "status_code": 503},
        status_code=HTTP_503_SERVICE_UNAVAILABLE,
        headers=headers,
    )


EXCEPTION_HANDLERS = {
    DomainError: handle_domain_error,
    ValidationException: handle_validation_error,
    NotAuthorizedException: handle_not_authorised,
    PermissionDeniedException: handle_permission_denied,
    HTTPException: handle_http_error,
    Exception: handle_unexpected_error,
}
