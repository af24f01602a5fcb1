"""Centrifugo-style channels: who is subscribed where, publication offsets, and the room ownership rule."""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from fakes.characterai.wire import JsonDict


class Subscriber(Protocol):
    connection_id: str

    async def send(self, frame: JsonDict) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


class RoomHub:
    def __init__(self) -> None:
        self._channels: dict[str, list[Subscriber]] = {}
        self.offsets: Counter[str] = Counter()

    def subscribers(self, channel: str) -> list[Subscriber]:
        return list(self._channels.get(channel, []))

    def is_subscribed(self, channel: str, subscriber: Subscriber) -> bool:
        return subscriber in self._channels.get(channel, [])

    def subscribe(self, channel: str, subscriber: Subscriber) -> None:
        listeners = self._channels.setdefault(channel, [])
        if subscriber not in listeners:
            listeners.append(subscriber)

    def unsubscribe(self, channel: str, subscriber: Subscriber) -> bool:
        listeners = self._channels.get(channel, [])
        if subscriber not in listeners:
            return False
        listeners.remove(subscriber)
        if not listeners:
            del self._channels[channel]
        return True

    def forget(self, subscriber: Subscriber) -> list[str]:
        """Drop every subscription of a closed connection; returns the channels it held."""
        held = [channel for channel, listeners in self._channels.items() if subscriber in listeners]
        for channel in held:
            self.unsubscribe(channel, subscriber)
        return held

    def channels(self) -> dict[str, list[str]]:
        return {channel: [s.connection_id for s in subs] for channel, subs in self._channels.items()}

    async def publish(self, channel: str, data: JsonDict) -> int:
        """Push ``data`` to every subscriber of ``channel``; offsets grow by one per publication."""
        self.offsets[channel] += 1
        offset = self.offsets[channel]
        frame = {"push": {"channel": channel, "pub": {"data": data, "offset": offset}}}
        for subscriber in self.subscribers(channel):
            await subscriber.send(frame)
        return offset
