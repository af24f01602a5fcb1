"""Group servers with characters as NPCs: several characters share one channel, each speaking as itself.

- ``addressing.address``: a pure function from a message (plus the cast, the last speaker and the NPC being
  replied to) to the character(s) that answer it.
- ``order.ArrivalOrder``: tickets that keep one chat's messages in platform arrival order.
- ``worker.RoomWorker``: every turn of a room (or of a channel's one-on-one NPCs) through the room queue,
  one at a time; waiting turns may merge; followers learn when they are queued.
- ``turns.TurnRunner``: a turn upstream, in a group room (where the backend has them) or in one chat per NPC.
- ``service.NpcService``: what adapters call (``arrive``, ``reply``, ``remember``); replies come as
  ``NpcReply(speaker, events)`` so the adapter picks the identity before the first text.
- ``flatten.flatten``: the same as plain reply events, for adapters without identities.
"""

from bot.models import Speaker
from bot.npc.addressing import NPC_COMMAND, NPC_USAGE, Addressing, AddressProblem, address
from bot.npc.cast import MAX_CAST
from bot.npc.flatten import flatten
from bot.npc.items import NpcItem, NpcNotice, NpcReply
from bot.npc.order import ArrivalOrder, Ticket
from bot.npc.service import NpcService, cast_line, is_npc_preset

__all__ = [
    "MAX_CAST",
    "NPC_COMMAND",
    "NPC_USAGE",
    "AddressProblem",
    "Addressing",
    "ArrivalOrder",
    "NpcItem",
    "NpcNotice",
    "NpcReply",
    "NpcService",
    "Speaker",
    "Ticket",
    "address",
    "cast_line",
    "flatten",
    "is_npc_preset",
]
