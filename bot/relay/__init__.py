"""The reply relay: reply events in, paced platform messages out. Imports no platform SDK.

Usage (in an adapter, one ``Budgets`` per adapter, one sink per reply)::

    budgets = Budgets.for_policy(PacingPolicy.telegram_group())
    policy = PacingPolicy.telegram_group().with_overrides(preset.pacing)
    result = await relay_reply(events, TelegramReplySink(bot, chat_id, reply_to), policy, budgets)

What the relay does
-------------------
* Shows the first visible text as soon as it exists (subject only to the budgets), then edits at most
  once per ``min_interval`` (widened x``backoff_factor`` by each 429, decaying back by
  ``interval_decay`` per successful update), only when the text differs from what is shown and grew
  by ``min_growth`` characters, or a split is needed, or it is the end. The newest snapshot always
  wins; older ones are never sent.
* Shares one sliding window per destination between every reply into it, one per pool of destinations
  that share a platform limit (``relay_reply(..., shared=key)`` with ``shared_limit`` in the policy: a
  Discord channel's webhooks), and one per platform (``Budgets``); ``destination_burst`` (and
  ``shared_burst``) optionally spreads a window out evenly (Telegram groups: 5 at once, then one call
  per 4 s) so concurrent replies do not spend a minute's budget in seconds. Waiting replies are served
  by priority: a reply with nothing on screen yet first, then a reply's final text, then intermediate
  edits. A 429 blocks the destination (or, if global, the platform) for exactly ``retry_after``; the
  failed call is retried right then and the reply's interval widens for later edits.
* Splits long replies (``split.py``): a full part is finished with ``final=True`` and the text goes on
  in a new message. A message that cannot be edited any more is left as it is and the rest of the text
  goes on in a new one, so the final text is always delivered unless sending itself keeps failing
  (then ``RelayResult.delivered`` is False and an error is logged).
* Keeps the typing indicator alive (every ``typing_interval``) until text is visible or the reply ended.
  Typing is optional traffic: at most one per destination per interval (the indicator is per chat, so
  concurrent replies share it; in Telegram forum topics that means per chat, not per topic), never
  while a message waits for the destination, and never with a smoothed destination's last spare slot.
* An error event, a failing or cancelled source, or ``idle_timeout`` of silence end the reply with a
  short notice ("⚠️ message"), appended to the partial text shown so far.

The sink contract (``ReplySink``, implemented by each platform adapter)
-----------------------------------------------------------------------
* ``destination``: the rate-limit key of where the reply goes, e.g. ``"telegram:-100123"``; replies
  with the same key share one budget.
* ``max_length``: the longest text of one message (4096 Telegram, 2000 Discord content).
* ``send(text, *, final) -> handle`` posts a new message; ``edit(handle, text, *, final)`` replaces
  the text of one. ``text`` is never blank and never longer than ``max_length``; the relay never
  repeats the text a message shows, except once with ``final=True`` when the part is finished.
* ``final=True`` marks the last update of a message: the sink may apply formatting then (Markdown,
  HTML), and must itself fall back to the plain text if the platform rejects the formatting. Streaming
  updates (``final=False``) should be sent as plain text.
* ``typing()`` shows the typing indicator once.
* Errors: raise ``RateLimited(retry_after, is_global=...)`` for a 429 (the relay waits and retries),
  ``NotModified`` when the platform says the text is unchanged (counted as success). Any other
  exception is a failure: the call is retried after ``retry_delay``, and after ``max_attempts`` an
  edit is abandoned (the rest continues in a new message) or a send ends the reply.
* Calls of one reply never overlap; calls of different replies into one destination may.
* Do the platform call right away: the relay takes the budget slot just before calling.
"""

from bot.relay.budget import Budgets, SlidingWindow
from bot.relay.clock import Clock, LoopClock, VirtualClock
from bot.relay.errors import NotModified, RateLimited
from bot.relay.inbox import error_notice
from bot.relay.policy import PRESETS, PacingPolicy
from bot.relay.sink import ReplySink
from bot.relay.split import SplitPart, plan_split, split_text
from bot.relay.stream import RelayResult, relay_reply

__all__ = [
    "PRESETS",
    "Budgets",
    "Clock",
    "LoopClock",
    "NotModified",
    "PacingPolicy",
    "RateLimited",
    "RelayResult",
    "ReplySink",
    "SlidingWindow",
    "SplitPart",
    "VirtualClock",
    "error_notice",
    "plan_split",
    "relay_reply",
    "split_text",
]
