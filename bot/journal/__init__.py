"""The reply journal: no reply is lost or left half-written by a crash.

A reply is recorded in the state store (``ReplyJournal``, SQLite or Redis) before it starts: where it goes, its
route (so the upstream chat is found again) and the user's text. As the relay posts its messages, the entry learns
their handles; it learns the text as it grows (at most every ``text_interval`` seconds, and at every new message)
and the final text when it arrives. When the reply has ended on screen (its final text, or an error notice), the
entry is closed. A crash (kill -9, a power cut) leaves it open.

At start, each adapter asks the core to finish its open entries of earlier runs (``Journal.recover``): the ending is
the final text the entry holds, else the backend's finished turn for the request (read from its history, only once
final and settled), else the text so far with a notice that the reply was interrupted. The relay then edits the
messages already posted to it (continuing in new messages where the text is longer) and the entry is closed. Before
that edit, the ending is written into the entry, and the messages the recovery posts are recorded like any others,
so a crash during a recovery makes the next start redo the same edits, which change nothing, and post nothing twice.

Adapters only say where they write (``Place``) and how to write there again (``Restorer``: their own reply sink
and a way to read a message handle back); everything else is here. Usage in an adapter::

    case Stream():
        place = Place(owner="telegram:123", target=request.target, encode=str)
        await plan.journal.relay(plan.events, sink, policy, budgets, place)
    ...
    await door.recover(self)   # after start; ``self`` implements Restorer
"""

from bot.journal.live import JournalOptions, Place, ReplyKind, ReplyTicket, Tracker
from bot.journal.recovery import INTERRUPTED, Journal, Reopened, Restorer

__all__ = [
    "INTERRUPTED",
    "Journal",
    "JournalOptions",
    "Place",
    "Reopened",
    "ReplyKind",
    "ReplyTicket",
    "Restorer",
    "Tracker",
]
