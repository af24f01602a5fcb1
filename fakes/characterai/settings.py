"""Tunable behaviour of the fake. Every time window is configurable so tests can shrink it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class FakeSettings(BaseModel):
    chunk_chars: int = Field(default=12, ge=1)  # characters added per streamed snapshot
    min_snapshots: int = Field(default=3, ge=1)  # short replies are still split into this many snapshots
    snapshot_delay: float = Field(default=0.0, ge=0)  # seconds between streamed snapshots
    page_size: int = Field(default=50, ge=1)  # GET /turns/ page size
    ping_interval: float = Field(default=25.0, gt=0)  # room socket: seconds between {} pings
    room_mode: Literal["reject", "evict"] = "reject"  # one-connection-per-room rule, doc section 3.3 A / B
    evict_close_code: int | None = None  # mode B: close the older connection with this code (e.g. 3504)
    room_rpc_reply: bool = True  # answer room RPCs with {"id":n,"rpc":{"data":{}}} before the pushes
    max_message_length: int | None = Field(default=None, ge=1)  # longer user messages get neo_error 400
    rate_limit_count: int | None = Field(default=None, ge=1)  # generations allowed per user per window
    rate_limit_window: float = Field(default=60.0, gt=0)
    remaining_quota_frac: float = Field(default=1.0, ge=0, le=1)
    # A second generating command on a DM connection while one is in flight: "queue" (served after it, and
    # counted in dm_generation_overlaps) or "reject" (answered at once with neo_error 409, and counted).
    generation_overlap: Literal["queue", "reject"] = "queue"
    # GET /turns/: a candidate still being generated shows is_final false ("actual"), or true like every other
    # ("always": what clients that require the key, e.g. kramcat, may be seeing; only stability tells then).
    history_is_final: Literal["actual", "always"] = "actual"
