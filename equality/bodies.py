"""Request bodies of the equality API, read so that one response lists every problem.

msgspec stops at the first invalid field, so the equality routes take their body as a plain JSON
object. The service and the rules check every field with one ``ErrorCollector``. Each body is still
described by a msgspec Struct, and OpenAPI shows that Struct's JSON schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from litestar.params import Body

from governance.errors import ErrorCollector, FieldError

UNKNOWN_FIELD = "unknown field; remove it (GET /schema lists the accepted fields)"


def documented(struct: type[msgspec.Struct]) -> Any:
    """Return the annotation of a JSON-object body that OpenAPI describes as ``struct``."""
    schema = msgspec.json.schema(struct)
    definition = schema["$defs"][struct.__name__]
    return Annotated[
        dict[str, Any],
        Body(
            title=definition["title"],
            description=definition.get("description"),
            schema_extra={
                "properties": definition["properties"],
                "required": definition.get("required", []),
                "additionalProperties": False,
            },
        ),
    ]


def unknown_fields(body: Mapping[str, Any], struct: type[msgspec.Struct]) -> list[FieldError]:
    """Return an error for each field of ``body`` that ``struct`` does not have."""
    errors = ErrorCollector()
    for name in sorted(set(body) - set(struct.__struct_fields__)):
        errors.add(name, UNKNOWN_FIELD)
    return errors.errors
