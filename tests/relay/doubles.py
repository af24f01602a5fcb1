"""An in-memory destination that enforces platform rules, and scripted reply sources, for relay tests.

The window check here is written independently of ``bot.relay.budget`` on purpose: the tests must be able
to catch a pacer that disagrees with the platform.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field

from bot.models import ReplyEvent, ReplyFinal, ReplySnapshot
from bot.relay import NotModified, RateLimited, VirtualClock


@dataclass
class Call:
    at: float
    kind: str  # send | edit | typing
    message: int | None
    text: str
    final: bool
    outcome: str = "ok"  # ok | 429 | not_modified | failed | rejected
    stream: str = ""


@dataclass
class FakeChat:
    """One chat/channel: a sliding window of ``limit`` calls per ``window`` seconds, 429 with the time
    left when it is exceeded, "not modified" for identical edits, and a length limit."""

    clock: VirtualClock
    key: str = "telegram:-100"
    max_length: int = 4096
    limit: int = 20
    window: float = 60.0
    count_typing: bool = True
    calls: list[Call] = field(default_factory=list)
    messages: dict[int, list[tuple[float, str, bool]]] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    forced_rate_limits: list[float] = field(default_factory=list)  # retry_after of the next calls
    forced_global: bool = False  # the forced 429s are platform-wide ones
    edit_failures: Callable[[int, str, bool], Exception | None] = lambda message, text, final: None
    blocked_until: float = float("-inf")
    _stamps: list[float] = field(default_factory=list)

    def sink(self, stream: str = "") -> ChatSink:
        return ChatSink(self, stream)

    def shown(self) -> list[str]:
        return [history[-1][1] for _, history in sorted(self.messages.items())]

    def text_of(self, stream: str) -> str:
        """What one reply's messages show, joined."""
        sent = sorted(call.message for call in self.of("send", stream) if call.message is not None)
        return "".join(self.messages[message][-1][1] for message in sent)

    def is_final(self) -> list[bool]:
        return [history[-1][2] for _, history in sorted(self.messages.items())]

    def of(self, kind: str, stream: str | None = None, outcome: str | None = "ok") -> list[Call]:
        return [
            call
            for call in self.calls
            if call.kind == kind
            and (stream is None or call.stream == stream)
            and (outcome is None or call.outcome == outcome)
        ]

    def admit(self, call: Call) -> None:
        """Apply the rate rules to a call (raising ``RateLimited`` like the platform would)."""
        now = self.clock.now()
        self.calls.append(call)
        if now < self.blocked_until:
            self.violations.append(f"{call.kind} at {now:g} while blocked until {self.blocked_until:g}")
            call.outcome = "429"
            raise RateLimited(self.blocked_until - now)
        if self.forced_rate_limits:
            retry_after = self.forced_rate_limits.pop(0)
            self.blocked_until = now + retry_after
            call.outcome = "429"
            raise RateLimited(retry_after, is_global=self.forced_global)
        if call.kind == "typing" and not self.count_typing:
            return
        recent = [stamp for stamp in self._stamps if stamp + self.window > now]  # window (now - w, now]
        if len(recent) >= self.limit:
            retry_after = recent[len(recent) - self.limit] + self.window - now
            self.blocked_until = now + retry_after
            call.outcome = "429"
            raise RateLimited(retry_after)
        self._stamps = [*recent, now]

    def check_text(self, call: Call) -> None:
        if not call.text.strip() or len(call.text) > self.max_length:
            call.outcome = "rejected"
            self.violations.append(f"{call.kind} with a text of {len(call.text)} characters")
            raise ValueError("text is empty or too long")


@dataclass
class ChatSink:
    chat: FakeChat
    stream: str = ""

    @property
    def destination(self) -> str:
        return self.chat.key

    @property
    def max_length(self) -> int:
        return self.chat.max_length

    async def send(self, text: str, *, final: bool) -> int:
        call = Call(self.chat.clock.now(), "send", None, text, final, stream=self.stream)
        self.chat.admit(call)
        self.chat.check_text(call)
        message = len(self.chat.messages) + 1
        call.message = message
        self.chat.messages[message] = [(call.at, text, final)]
        return message

    async def edit(self, handle: int, text: str, *, final: bool) -> None:
        call = Call(self.chat.clock.now(), "edit", handle, text, final, stream=self.stream)
        self.chat.admit(call)
        self.chat.check_text(call)
        failure = self.chat.edit_failures(handle, text, final)
        if failure is not None:
            call.outcome = "failed"
            raise failure
        history = self.chat.messages[handle]
        if history[-1][1:] == (text, final):
            call.outcome = "not_modified"
            self.chat.violations.append(f"identical edit of message {handle} at {call.at:g}")
            raise NotModified
        history.append((call.at, text, final))

    async def typing(self) -> None:
        self.chat.admit(Call(self.chat.clock.now(), "typing", None, "", False, stream=self.stream))


async def scripted(
    clock: VirtualClock, steps: Iterable[tuple[float, ReplyEvent]], closed: list[bool] | None = None
) -> AsyncIterator[ReplyEvent]:
    """Yield each event after its delay (seconds since the previous one)."""
    try:
        for delay, event in steps:
            await clock.sleep(delay)
            yield event
    finally:
        if closed is not None:
            closed.append(True)


def growing(text: str, chunk: int, every: float, *, first_after: float = 0.0) -> list[tuple[float, ReplyEvent]]:
    """Snapshots of ``text`` growing by ``chunk`` characters every ``every`` seconds, then the final."""
    steps: list[tuple[float, ReplyEvent]] = []
    for end in range(chunk, len(text) + chunk, chunk):
        steps.append((first_after if not steps else every, ReplySnapshot(text=text[:end])))
    steps.append((every, ReplyFinal(text=text)))
    return steps
