"""The conversation endpoints' logic: listing, reading (with the backend's history), deleting and clearing
conversations of the HTTP platform. Conversations of other platforms are invisible here."""

from __future__ import annotations

from adapters.http.chat_requests import request_for
from adapters.http.errors import from_reply_error, invalid, not_found
from adapters.http.identity import (
    PLATFORM,
    PREFIX,
    ConversationRef,
    dm_user,
    external_user,
    group_conversation,
    group_of,
    user_key,
)
from adapters.http.schemas import (
    ConversationDetail,
    ConversationListData,
    ConversationSummary,
    HistoryMessage,
    ListConversationsQuery,
    epoch_millis,
)
from bot.conversations import ConversationBook
from bot.models import ConversationRecord, ReplyError
from bot.ports import EVERYONE
from bot.upstream.base import UpstreamError


class Conversations:
    def __init__(self, book: ConversationBook, upstream_retry_after: float) -> None:
        self._book = book
        self._retry_after = upstream_retry_after

    async def summaries(self, query: ListConversationsQuery) -> ConversationListData:
        """Most recently active first; ``userId`` keeps the conversations that user has spoken in, ``groupId``
        those of the group (both: the user's conversation there); ``total`` counts the same filter."""
        user = user_key(query.user_id) if query.user_id is not None else None
        conversation = group_conversation(query.group_id) if query.group_id is not None else None
        records, total = await self._book.records(
            user, conversation, query.limit, query.offset, platform=PLATFORM
        )
        summaries = [_summary(ConversationRef(conversation=r.conversation, who=r.who), r, r.preset) for r in records]
        return ConversationListData(conversations=summaries, total=total)

    async def detail(self, ref: ConversationRef, limit: int) -> ConversationDetail:
        record = await self._existing(ref)
        preset = record.preset if record is not None else await self._current_preset(ref)
        try:
            turns = await self._book.history(ref.conversation, ref.who, limit)
        except UpstreamError as exc:
            error = ReplyError(code=exc.code.value, message=exc.user_message)
            raise from_reply_error(error, exc.retry_after or self._retry_after) from None
        messages = [
            HistoryMessage(
                role="user" if t.is_human else "assistant", content=t.text, timestamp=epoch_millis(t.created_at)
            )
            for t in turns
        ]
        summary = _summary(ref, record, preset)
        return ConversationDetail(**dict(summary), messages=messages)

    async def delete(self, ref: ConversationRef) -> None:
        """Forget the conversation (its record and upstream chat). A preset binding that the API made for it
        goes too once no chat is left in the conversation, so a new conversation there may choose again."""
        await self._existing(ref)
        await self._book.forget(ref.conversation, ref.who)
        if await self._book.has_chats(ref.conversation):
            return
        binding = await self._book.binding(ref.conversation)
        if binding is not None and binding.bound_by.startswith(PREFIX):
            await self._book.bindings.drop(request_for(ref), binding, "HTTP API conversation deleted")

    async def clear(self, ref: ConversationRef) -> None:
        """A new upstream chat with the same character (the service's reset)."""
        await self._existing(ref)
        request = request_for(ref)
        route = await self._book.route(request)
        if route is None or (route.conversation, route.who) != (ref.conversation, ref.who):
            raise invalid("This conversation's preset has changed since; DELETE it instead.")
        result = await self._book.restart(route)
        if result.kind == "error":
            raise from_reply_error(result, self._retry_after)

    async def _existing(self, ref: ConversationRef) -> ConversationRecord | None:
        """The record (None right after a clear, before anyone spoke); 404 when the conversation is unknown."""
        record = await self._book.record(ref.conversation, ref.who)
        if record is None and not await self._book.has_chat(ref.conversation, ref.who):
            raise not_found()
        return record

    async def _current_preset(self, ref: ConversationRef) -> str | None:
        route = await self._book.route(request_for(ref))
        return route.preset.name if route is not None else None


def _summary(ref: ConversationRef, record: ConversationRecord | None, preset: str | None) -> ConversationSummary:
    if record is not None:
        speaker = external_user(record.user_id)
    else:
        speaker = dm_user(ref.conversation) or (external_user(ref.who) if ref.who != EVERYONE else None)
    return ConversationSummary(
        id=ref.id,
        user_id=speaker,
        group_id=group_of(ref.conversation),
        preset=preset,
        message_count=record.message_count if record is not None else 0,
        last_message=record.last_message if record is not None else "",
        updated_at=epoch_millis(record.updated_at) if record is not None else None,
    )
