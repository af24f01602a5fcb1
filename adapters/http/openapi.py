"""The OpenAPI 3.1 document, generated from the route table and the very pydantic models the handlers use.

Pydantic emits JSON Schema 2020-12, which is OpenAPI 3.1's schema dialect, so the model schemas go into
``components/schemas`` unchanged. Request models are described as validated, response models as serialised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from adapters.http.routes import RouteSpec
from adapters.http.schemas import CONVERSATION_ID_PATTERN, ErrorResponse

REF_TEMPLATE = "#/components/schemas/{model}"
API_VERSION = "1.0.0"
SECURITY_SCHEME = "bearerAuth"

JsonSchemaMode = Literal["validation", "serialization"]
Document = dict[str, Any]

STREAM_DESCRIPTION = (
    "Server-Sent Events. The schema describes one event as an SSE client reads it: no `event:` field (so the "
    "default type, `message`), no `id:` or `retry:`, and one `data:` line holding a JSON object (`StreamEvent`): "
    "first `start` (with the conversationId), then `content` events carrying the new text since the previous "
    "one, then `end` (with the complete reply) or `error`, after which the stream closes. While nothing new is "
    "ready, `: keep-alive` comment lines may come between events; SSE clients ignore comments."
)

# Where the 200 response of an operation names a conversation, and the operations that take it.
CONVERSATION_LINKS = {
    "chat": "$response.body#/data/conversationId",
}
LINKED_OPERATIONS = ("getConversation", "deleteConversation", "clearConversation")


def _models(routes: Iterable[RouteSpec]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    found: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(ErrorResponse, "serialization"): None}
    for spec in routes:
        if spec.body is not None:
            found[spec.body, "validation"] = None
        if spec.response is not None:
            found[spec.response, "serialization"] = None
    return list(found)


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(mode="validation", ref_template=REF_TEMPLATE)
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = _without_null(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    """``T | None = None`` as a query parameter is simply an optional ``T`` (a query string cannot say null)."""
    options = prop.get("anyOf", [])
    if len(options) == 2 and {"type": "null"} in options and prop.get("default", ...) is None:
        rest = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
        kept: dict[str, Any] = next(o for o in options if o != {"type": "null"})
        return rest | kept
    return dict(prop)


def sse_event_schema(data_schema: dict[str, Any]) -> dict[str, Any]:
    """One Server-Sent Event as read by an SSE client (the fields ``event``, ``data``, ``id``, ``retry``); its
    ``data`` is JSON described by ``data_schema``. (OpenAPI 3.1 has no keyword of its own for the items of a
    stream; the media type's schema describes each event, as OpenAPI 3.2's ``itemSchema`` will.)"""
    return {
        "type": "object",
        "properties": {
            "event": {"const": "message", "description": "never sent, so SSE clients read the default type"},
            "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": data_schema},
        },
        "required": ["data"],
        "additionalProperties": False,
    }


def _conversation_links(expression: str) -> dict[str, Any]:
    return {
        operation[0].upper() + operation[1:]: {
            "operationId": operation,
            "parameters": {"conversationId": expression},
            "description": "the conversation this reply belongs to",
        }
        for operation in LINKED_OPERATIONS
    }


def _error_response(status: int, error_schema: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": HTTPStatus(status).phrase,
        "content": {"application/json": {"schema": error_schema}},
    }
    if status in (429, 503):
        response["headers"] = {
            "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}
        }
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return response


def _operation(spec: RouteSpec, schemas: Mapping[Any, dict[str, Any]]) -> dict[str, Any]:
    error_schema = schemas[ErrorResponse, "serialization"]
    operation: dict[str, Any] = {"operationId": spec.name, "summary": spec.summary}
    parameters: list[dict[str, Any]] = []
    if "{conversationId}" in spec.path:
        parameters.append(
            {
                "name": "conversationId",
                "in": "path",
                "required": True,
                "description": "the opaque id returned by /api/chat or /api/conversations",
                "schema": {"type": "string", "pattern": CONVERSATION_ID_PATTERN},
            }
        )
    if spec.query is not None:
        parameters += _query_parameters(spec.query)
    if parameters:
        operation["parameters"] = parameters
    if spec.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas[spec.body, "validation"]}},
        }
    success: dict[str, Any]
    if spec.stream:
        assert spec.response is not None
        event = sse_event_schema(schemas[spec.response, "serialization"])
        success = {"description": STREAM_DESCRIPTION, "content": {"text/event-stream": {"schema": event}}}
    else:
        schema = schemas[spec.response, "serialization"] if spec.response is not None else {"type": "object"}
        success = {"description": "OK", "content": {"application/json": {"schema": schema}}}
    if spec.name in CONVERSATION_LINKS:
        success["links"] = _conversation_links(CONVERSATION_LINKS[spec.name])
    operation["responses"] = {"200": success} | {
        str(status): _error_response(status, error_schema) for status in spec.statuses
    }
    if not spec.auth:
        operation["security"] = []
    return operation


def build_document(routes: Sequence[RouteSpec]) -> Document:
    schemas, definitions = models_json_schema(_models(routes), ref_template=REF_TEMPLATE)
    paths: dict[str, dict[str, Any]] = {}
    for spec in routes:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "charbridge HTTP Chat API",
            "version": API_VERSION,
            "description": "Talk to the bridge's characters from any app. Authenticate with "
            "`Authorization: Bearer <API key>`.",
        },
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {SECURITY_SCHEME: {"type": "http", "scheme": "bearer"}},
        },
        "security": [{SECURITY_SCHEME: []}],
    }
