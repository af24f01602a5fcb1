"""The OpenAPI document stays true: it is valid OpenAPI 3.1, documents exactly the routes served, its request
schemas accept and refuse what the server does, and (in every test, through ApiClient) real responses match it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from openapi_spec_validator import validate

from adapters.http.identity import encode_conversation_id
from adapters.http.openapi import REF_TEMPLATE
from adapters.http.routes import ROUTES
from bot.ports import EVERYONE
from tests.http.support import World


async def test_the_served_document_is_valid_openapi_3_1(world: World) -> None:
    document = world.api.documented.document
    assert document["openapi"] == "3.1.0"
    validate(document)


async def test_every_served_route_is_documented_and_every_documented_route_is_served(world: World) -> None:
    served = {
        (route.method, route.resource.canonical)
        for route in world.adapter.app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    paths = world.api.documented.document["paths"]
    documented = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    assert served == documented
    assert len(documented) == len(ROUTES) == 7


async def test_every_documented_operation_answers_as_documented(world: World) -> None:
    conversation = encode_conversation_id("http:dm:alice", EVERYONE)
    for path, operations in world.api.documented.document["paths"].items():
        for method in operations:
            await world.api.chat("hi")  # (again, should an earlier operation have deleted it)
            url = path.replace("{conversationId}", conversation)
            body = {"message": "hi", "userId": "alice"} if method == "post" else None
            if path.endswith("/stream"):
                events = await world.api.stream("hi")
                assert events[-1]["type"] == "end"
                continue
            reply = await world.api.call(method.upper(), url, json_body=body)  # checked against the document
            assert reply.status == 200, (method, path, reply.body)


async def test_unknown_routes_get_the_json_error_shape(world: World) -> None:
    missing = await world.api.call("GET", "/api/nothing-here")
    assert missing.status == 404 and missing.body["success"] is False
    assert missing.body["error"]["code"] == "INVALID_REQUEST"
    wrong_method = await world.api.call("PUT", "/api/chat")
    assert wrong_method.status == 405 and wrong_method.body["error"]["code"] == "INVALID_REQUEST"


def test_component_schemas_are_the_models_own() -> None:
    from adapters.http.openapi import build_document

    document = build_document(ROUTES)
    for spec in ROUTES:
        if spec.body is not None:
            own = spec.body.model_json_schema(mode="validation", ref_template=REF_TEMPLATE)
            assert document["components"]["schemas"][spec.body.__name__] == own
        if spec.response is not None:
            own = spec.response.model_json_schema(mode="serialization", ref_template=REF_TEMPLATE)
            own.pop("$defs", None)
            assert document["components"]["schemas"][spec.response.__name__] == own


CHAT_BODIES: list[Any] = [
    {"message": "hi", "userId": "alice"},
    {"message": "hi", "userId": "alice", "groupId": "g.1", "preset": "bob"},
    {"message": "hi", "userId": "alice", "groupId": None, "preset": None},
    {"message": "hi"},
    {"userId": "alice"},
    {"message": "hi", "userId": "al:ice"},
    {"message": "hi", "userId": ""},
    {"message": "hi", "userId": "x" * 129},
    {"message": " \n ", "userId": "alice"},
    {"message": "hi", "userId": "alice", "preset": "Bad Name"},
    {"message": "hi", "userId": "alice", "stream": True},
    {"message": ["hi"], "userId": "alice"},
    {"message": "hi", "userId": 7},
    "hi",
    None,
]


@pytest.mark.parametrize("body", CHAT_BODIES, ids=[json.dumps(b)[:40] for b in CHAT_BODIES])
async def test_the_documented_request_schema_agrees_with_the_server(world: World, body: Any) -> None:
    document = world.api.documented.document
    schema = document["paths"]["/api/chat"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({"components": document["components"], **schema})
    sent = json.dumps(body)
    reply = await world.api.call("POST", "/api/chat", data=sent, headers={"Content-Type": "application/json"})
    assert reply.status in (200, 400)
    assert validator.is_valid(body) == (reply.status == 200), reply.body


async def test_the_documented_error_codes_are_the_apis(world: World) -> None:
    schemas = world.api.documented.document["components"]["schemas"]
    assert set(schemas["ErrorBody"]["properties"]["code"]["enum"]) == {
        "INVALID_REQUEST",
        "UNAUTHORIZED",
        "CONVERSATION_NOT_FOUND",
        "RATE_LIMITED",
        "MODEL_ERROR",
        "CHANNEL_UNAVAILABLE",
        "INTERNAL_ERROR",
    }
    responses = world.api.documented.document["paths"]["/api/chat"]["post"]["responses"]
    assert {"429", "502", "503"} <= set(responses)


async def test_times_are_documented_as_integer_epoch_milliseconds(world: World) -> None:
    document = world.api.documented.document
    schemas = document["components"]["schemas"]
    for model, field in (("ConversationSummary", "updatedAt"), ("ConversationDetail", "updatedAt"),
                         ("HistoryMessage", "timestamp")):
        prop = schemas[model]["properties"][field]
        assert prop["anyOf"] == [{"type": "integer", "format": "int64"}, {"type": "null"}], (model, field)
        assert "epoch milliseconds" in prop["description"]
    assert "date-time" not in json.dumps(document)
