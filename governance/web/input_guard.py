"""Checks on every request before any handler runs: no NUL characters, and JSON of limited depth.

PostgreSQL text cannot contain the NUL character (U+0000): asyncpg rejects such a value, which would
surface as a 500, while SQLite stores it. Rejecting NUL in the path, the query string and JSON bodies
before a handler runs makes both engines return the same status, and keeps the character out of
the logs. Page forms are checked by ``governance.web.forms.read_form``, which every page handler
uses, so that the handler can show the form again with the error at the field.

JSON bodies are also limited in depth: msgspec, like any recursive parser, raises ``RecursionError``
on input nested many thousands of levels deep.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType, ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from governance.auth import API_PREFIX
from governance.errors import BadRequest, InvalidInput
from governance.logs import escape_control_characters

# The deepest nesting of arrays and objects a JSON body may have. The API's deepest bodies (DPIA
# content) nest about five levels.
MAX_JSON_DEPTH = 64
NUL = "\x00"
NUL_MESSAGE = "contains a NUL character (\\u0000), which is not allowed; remove it"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = frozenset({RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART})


def address_problem(scope: Scope) -> BadRequest | None:
    """Return the error for a path or query string that contains a NUL character, or None."""
    if NUL in scope.get("path", ""):
        return BadRequest(
            "The address contains a NUL character (%00), which is not allowed.", field="path"
        )
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        return BadRequest(
            "The query string contains a NUL character (%00), which is not allowed.", field="query"
        )
    return None


def _child_path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    name = escape_control_characters(key)
    return f"{parent}.{name}" if parent else name


def find_json_problem(document: Any) -> InvalidInput | BadRequest | None:
    """Return the error for the first NUL character in ``document``, or for too deep nesting.

    The walk uses an explicit stack, so a deep document cannot exhaust Python's recursion limit.
    Field paths are written as the API names fields: ``title``, ``purposes[0].purpose``.
    """
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                return InvalidInput.single(path or "body", NUL_MESSAGE)
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth >= MAX_JSON_DEPTH:
            return too_deep()
        if isinstance(value, dict):
            children = list(value.items())
            for key, _ in children:
                if NUL in key:
                    field = _child_path(path, key)
                    return InvalidInput.single(field, f"the field name {NUL_MESSAGE}")
        else:
            children = list(enumerate(value))
        # Reversed, so the first field in the document is reported first.
        for key, child in reversed(children):
            stack.append((child, _child_path(path, key), depth + 1))
    return None


def too_deep() -> BadRequest:
    return BadRequest(
        f"The JSON body is nested too deeply: more than {MAX_JSON_DEPTH} levels of arrays and "
        "objects. Send a flatter document.",
        field="body",
    )


async def check_body(request: Request) -> None:
    """Raise for a NUL character in a JSON body, or for JSON nested too deeply.

    Reading the body here caches it on the request's scope, where Litestar's own parsing (CSRF
    check, handler arguments) finds it. The body size limit applies as usual: too large a body
    raises Litestar's 413 error.
    """
    # The API parses every body as JSON, whatever its Content-Type. Pages read only forms, and
    # ``governance.web.forms.read_form`` rejects NUL in them itself, so that a handler can show its
    # form again with the error at the field.
    is_api = request.url.path.startswith(API_PREFIX)
    content_type, _ = request.content_type
    if content_type in FORM_TYPES and not is_api:
        return

    body = await request.body()
    if not body:
        return
    try:
        document = msgspec.json.decode(body)
    except RecursionError:
        raise too_deep() from None
    except msgspec.DecodeError as error:
        # A page ignores a body that is neither a form nor JSON, so only the API rejects it here.
        if is_api:
            raise BadRequest(
                f"The body is not valid JSON ({error}). Send a JSON object with the header "
                "Content-Type: application/json.",
                field="body",
            ) from None
        return
    problem = find_json_problem(document)
    if problem is not None:
        raise problem


class InputGuardMiddleware(ASGIMiddleware):
    """Rejects NUL characters and too deeply nested JSON before a handler reads the request.

    A path or query string with NUL gets 400; a JSON field with NUL gets 422 naming the field; JSON
    nested too deeply gets 400 naming ``body``. Page forms are left to ``read_form``. Requests to
    paths that match no route get 404 from the router before this runs; the exception handler turns
    those into 400 too.
    """

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        problem = address_problem(scope)
        if problem is not None:
            raise problem
        if scope["method"] in BODY_METHODS:
            await check_body(Request(scope, receive))
        await next_app(scope, receive, send)
