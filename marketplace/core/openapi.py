"""The OpenAPI document names the errors each operation can answer, as RFC 9457 problem+json.

Litestar describes only the success and its own 400; generated clients and conformance checks then
meet undocumented 401/403/404/409/413/415/422 answers. Each operation gets the problems that can
actually occur for it: 401 and 403 unless it is public, 404 when its path names something,
409 when it changes state, 400/413/415/422 when it reads a body or parameters.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)
from litestar.routes import HTTPRoute

from marketplace.core.auth import PUBLIC
from marketplace.core.errors import PROBLEM_JSON

PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    description="An RFC 9457 problem: what went wrong, and each wrong field by name.",
    required=["type", "title", "status", "detail", "errors"],
    properties={
        "type": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "errors": Schema(type=OpenAPIType.ARRAY, items=Schema(
            type=OpenAPIType.OBJECT, required=["field", "message"],
            properties={"field": Schema(type=OpenAPIType.STRING), "message": Schema(type=OpenAPIType.STRING)})),
        "request_id": Schema(type=OpenAPIType.STRING,
                             description="The id of this request in our logs (also in the X-Request-ID header): quote it to us."),
    },
)
MEANING = {
    "400": "The request is malformed: not JSON, nested too deep, or a parameter of the wrong shape.",
    "401": "Not authenticated: send `Authorization: Bearer <token>`.",
    "403": "Your role does not allow this.",
    "404": "Unknown, or not visible to you.",
    "409": "Conflicts with the current state (a deadline has passed, a stage is closed, ...).",
    "413": "The body is larger than this operation accepts.",
    "415": "The body's content type is not one this operation accepts.",
    "422": "Invalid fields: each is named in `errors`.",
    "429": "Too many attempts: wait for the `Retry-After` seconds.",
}
CHANGES = {"post", "put", "patch", "delete"}


def problems_for(method: str, operation: Operation, access: Any) -> list[str]:
    """The problem statuses one operation can answer."""
    codes = ["400", "422"] if operation.parameters or operation.request_body else []
    if access != PUBLIC:
        codes += ["401"] if access == "signed_in" else ["401", "403"]
    if any(getattr(p, "param_in", None) == "path" for p in operation.parameters or []):
        codes.append("404")
    if method in CHANGES:
        codes.append("409")
    if operation.request_body:
        codes += ["400", "413", "415", "422"]
    return sorted(set(codes))


def add_problems(openapi: OpenAPI, access: dict[tuple[str, str], Any]) -> OpenAPI:
    """Describe the problem+json answers of every operation of `openapi` (in place)."""
    components = openapi.components
    if components.schemas is None:
        components.schemas = {}
    components.schemas["Problem"] = PROBLEM
    problem = Reference(ref="#/components/schemas/Problem")
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "post", "put", "patch", "delete"):
            operation: Operation | None = getattr(item, method, None)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            for code in problems_for(method, operation, access.get((path, method))):
                responses[code] = OpenAPIResponse(description=MEANING[code],
                                                  content={PROBLEM_JSON: OpenAPIMediaType(schema=problem)})
            operation.responses = responses
    return openapi


def describe_problems(app: Litestar) -> None:
    """Make `app`'s OpenAPI document name each operation's problems."""
    access: dict[tuple[str, str], Any] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods:
                    access[(route.path_format, method.lower())] = handler.opt.get("allow")
    add_problems(app.plugins.get(OpenAPIPlugin).provide_openapi(), access)  # built once here, then served as is
