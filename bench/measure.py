"""Figures read off the fake Telegram after a run: what each user saw, when, and what it cost."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from bench.world import UpstreamFinal
from fakes.telegram import FakeTelegram, StoredMessage

ChatKind = Literal["group", "private"]
COUNTED_CALLS = ("sendMessage", "editMessageText", "sendChatAction")


@dataclass(frozen=True)
class Request:
    """One user message of the workload and the reply it should get."""

    kind: ChatKind
    prompt: str  # the text the character receives
    message: StoredMessage  # the user's message in the fake


class ReplyFigures(BaseModel):
    kind: ChatKind
    length: int  # characters of the character's final text (0 if it never came)
    delivered: bool  # the reply's message ends showing exactly the character's final text
    messages: int  # bot messages answering the request
    edits: int  # successful edits (revisions after the first)
    edit_calls: int  # editMessageText calls on its message(s), refused ones included
    first_visible: float | None  # seconds (measured) from the user's message to the first bot text
    final_visible: float | None  # seconds (measured) from the upstream final to that text on screen


class CallTotals(BaseModel):
    calls: dict[str, int]  # counted Bot API calls by method, refused ones included
    too_many_requests: int  # 429 answers
    penalties: int  # calls made while a 429's retry_after was still running (refused again)


def answers(fake: FakeTelegram, request: Request, finals: dict[str, UpstreamFinal]) -> list[StoredMessage]:
    """The bot's messages answering the request: those quoting it, and the one showing its final text (a
    send retried after a 429 goes out without the quote, see the README)."""
    final = finals.get(request.prompt)
    return [
        m
        for m in fake.bot_messages(request.message.chat)
        if m.reply_to is request.message or (final is not None and m.text == final.text)
    ]


def is_delivered(fake: FakeTelegram, request: Request, finals: dict[str, UpstreamFinal]) -> bool:
    final = finals.get(request.prompt)
    shown = answers(fake, request, finals)
    return final is not None and bool(shown) and shown[-1].text == final.text


def reply_figures(fake: FakeTelegram, request: Request, finals: dict[str, UpstreamFinal]) -> ReplyFigures:
    chat = request.message.chat
    shown = answers(fake, request, finals)
    final = finals.get(request.prompt)
    first_visible = final_visible = None
    if shown:
        first_visible = shown[0].versions[0].t - request.message.versions[0].t
    shown_at = _first_time_showing(shown[-1:], final.text) if final is not None else None
    if final is not None and shown_at is not None:
        final_visible = max(0.0, shown_at - final.at)
    ids = {m.message_id for m in shown}
    edit_calls = sum(
        1
        for call in fake.calls("editMessageText")
        if _int(call.params.get("chat_id")) == chat.id and _int(call.params.get("message_id")) in ids
    )
    return ReplyFigures(
        kind=request.kind,
        length=len(final.text) if final is not None else 0,
        delivered=is_delivered(fake, request, finals),
        messages=len(shown),
        edits=sum(len(m.edits) for m in shown),
        edit_calls=edit_calls,
        first_visible=first_visible,
        final_visible=final_visible,
    )


def call_totals(fake: FakeTelegram) -> CallTotals:
    counters = fake.counters()
    return CallTotals(
        calls={method: len(fake.calls(method)) for method in COUNTED_CALLS},
        too_many_requests=counters.too_many_requests,
        penalties=counters.penalties,
    )


def percentile(values: Iterable[float], share: float) -> float | None:
    """Nearest-rank percentile (``share`` in 0..1); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _first_time_showing(messages: list[StoredMessage], text: str) -> float | None:
    return next((v.t for m in messages for v in m.versions if v.text == text), None)


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
