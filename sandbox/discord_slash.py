"""Typed slash commands -> Discord interactions, using the commands the bot registered with the fake Discord.

``/preset use zora`` becomes the interaction a Discord client sends for ``/preset use name:zora``: the words
after the command (and its subcommand) fill the options in the order the bot declared them. The last option,
when it is text, takes the rest of the line (``/chat hello there``, ``/preset create kira abc key=value ...``);
a boolean option may also be given by its name (``/preset delete kira force``). Anything that does not fit
the registered options is a one-line hint, and nothing is sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.platform import SandboxError

OptionValue = str | int | float | bool

SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN, NUMBER = 1, 2, 3, 4, 5, 10
TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})
WORD = re.compile(r'"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class SlashCall:
    """What to hand to the fake's ``slash(channel, user, name, options, subcommand=...)``."""

    name: str
    subcommand: str | None = None
    options: dict[str, OptionValue] = field(default_factory=dict)


@dataclass(frozen=True)
class _Word:
    text: str
    start: int  # where the word (with its quotes) starts in the argument text


def _words(text: str) -> list[_Word]:
    return [_Word(m.group(1) if m.group(1) is not None else m.group(2), m.start()) for m in WORD.finditer(text)]


def _usage(command: str, options: Sequence[Mapping[str, Any]]) -> str:
    parts = [f"<{o['name']}>" if o.get("required") else f"[{o['name']}]" for o in options]
    return " ".join([f"usage: /{command}", *parts])


def _rest_of_line(text: str) -> str:
    """The rest of the line as typed; one quoted value loses its quotes."""
    text = text.strip()
    whole = WORD.fullmatch(text)
    return whole.group(1) if whole is not None and whole.group(1) is not None else text


def _convert(word: str, option: Mapping[str, Any], usage: str) -> OptionValue:
    name, kind = option["name"], option.get("type", STRING)
    if kind == BOOLEAN:
        if word.lower() in TRUE_WORDS or word.lower() == name:
            return True
        if word.lower() in FALSE_WORDS:
            return False
        raise SandboxError(f"{name} is true or false ({usage})")
    if kind in (INTEGER, NUMBER):
        try:
            number: int | float = int(word) if kind == INTEGER else float(word)
        except ValueError:
            raise SandboxError(f"{name} must be a number ({usage})") from None
        low, high = option.get("min_value"), option.get("max_value")
        if (low is not None and number < low) or (high is not None and number > high):
            raise SandboxError(f"{name} must be from {low} to {high} ({usage})")
        return number
    if kind != STRING:
        raise SandboxError(f"the sandbox cannot type a {name} option ({usage})")
    return word


def fill_options(command: str, declared: Sequence[Mapping[str, Any]], text: str) -> dict[str, OptionValue]:
    """The option values for the argument ``text`` of ``/command``, in the declared order."""
    usage = _usage(command, declared)
    words = _words(text)
    values: dict[str, OptionValue] = {}
    for option in declared:  # a boolean named by itself: "force", "everywhere"
        if option.get("type") == BOOLEAN:
            named = next((w for w in words if w.text.lower() == option["name"]), None)
            if named is not None:
                values[option["name"]] = True
                words.remove(named)
    positional = [o for o in declared if o["name"] not in values]
    for option in positional:
        if not words:
            break
        if option is declared[-1] and option.get("type", STRING) == STRING:
            values[option["name"]] = _rest_of_line(text[words[0].start :])
            words = []
            break
        values[option["name"]] = _convert(words.pop(0).text, option, usage)
    if words:
        raise SandboxError(f"too many words after /{command} ({usage})")
    missing = [o["name"] for o in declared if o.get("required") and o["name"] not in values]
    if missing:
        raise SandboxError(f"/{command} needs {', '.join(missing)} ({usage})")
    return values


def parse_slash(line: str, commands: Sequence[Mapping[str, Any]], *, where: str) -> SlashCall:
    """The interaction for a typed ``/name [subcommand] args...`` line. ``commands`` are the command
    objects registered for the place (``where`` says which, for the hint when one is missing)."""
    head, _, rest = line.strip()[1:].partition(" ")
    name = head.lower()
    command = next((c for c in commands if c.get("name") == name), None)
    if command is None:
        known = " ".join(f"/{c['name']}" for c in commands)
        offered = f"the bot's slash commands there: {known}" if known else "the bot has no slash commands there"
        raise SandboxError(f"Discord offers no /{name} {where}; {offered}")
    declared: list[Mapping[str, Any]] = list(command.get("options") or [])
    subcommands = {o["name"]: o for o in declared if o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP)}
    if not subcommands:
        return SlashCall(name, None, fill_options(name, declared, rest))
    word, _, rest = rest.strip().partition(" ")
    sub = subcommands.get(word.lower())
    if sub is None or sub.get("type") != SUB_COMMAND:
        raise SandboxError(f"usage: /{name} {'|'.join(subcommands)} ...")
    return SlashCall(name, sub["name"], fill_options(f"{name} {sub['name']}", list(sub.get("options") or []), rest))
