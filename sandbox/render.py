"""How the sandbox draws the conversation on a plain terminal (no curses), three ways:

- ``LiveScreen`` (a terminal): a reply appears and grows in place as the platform edits it;
- ``EditLogScreen`` (output is a pipe or file): every post and every edit on its own line;
- ``TranscriptScreen`` (``--script``): each message once, with its final text, when the turn is over, so the
  same script always prints the same transcript.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from sandbox.platform import ChatRef
from sandbox.watch import Shown

Write = Callable[[str], None]
CONTINUATION = "    "


def stdout_write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def indent(text: str) -> str:
    """Continuation lines of a multi-line message are indented under its first line."""
    return text.replace("\n", "\n" + CONTINUATION)


def indent_block(text: str) -> str:
    """``indent`` for a whole message: blank lines stay blank (no trailing spaces)."""
    first, *rest = text.split("\n")
    return "\n".join([first, *(CONTINUATION + line if line else "" for line in rest)])


class BaseScreen:
    def __init__(self, write: Write = stdout_write, *, echo: bool = True) -> None:
        self._write = write
        self._echo = echo  # repeat what the user typed (the terminal already shows it when interactive)
        self.current: ChatRef | None = None

    def typed(self, prompt: str, line: str) -> None:
        self.end_turn()
        if self._echo:
            self._write(f"{prompt}{line}\n")

    def note(self, text: str) -> None:
        """A line from the sandbox itself (not from the chat)."""
        self.end_turn()
        for line in text.splitlines() or [""]:
            self._write(f"# {line}\n")

    def _where(self, chat: ChatRef) -> str:
        return "" if chat == self.current else f"[{chat.describe()}] "

    def end_turn(self) -> None:
        """The answer to the last line is complete."""


class LiveScreen(BaseScreen):
    """Appends each edit's new text to the line being drawn, so the reply grows as on the platform."""

    def __init__(self, write: Write = stdout_write) -> None:
        super().__init__(write, echo=False)
        self._open: str | None = None  # message id of the reply being drawn
        self._open_text = ""

    def show(self, shown: Shown) -> None:
        if shown.message_id == self._open and shown.text.startswith(self._open_text):
            self._write(indent(shown.text[len(self._open_text) :]))
        else:
            self.end_turn()
            edited = " (edited)" if shown.version else ""
            self._write(f"{self._where(shown.chat)}{shown.label}{edited}: {indent(shown.text)}")
            self._open = shown.message_id
        self._open_text = shown.text

    def end_turn(self) -> None:
        if self._open is not None:
            self._write("\n")
            self._open = None
            self._open_text = ""


class EditLogScreen(BaseScreen):
    """One line per post and per edit, as they happen."""

    def show(self, shown: Shown) -> None:
        edit = f" [edit {shown.version}]" if shown.version else ""
        self._write(f"{self._where(shown.chat)}{shown.label}{edit}: {indent_block(shown.text)}\n")


class TranscriptScreen(BaseScreen):
    """Each message with its final text, printed when the turn is over (and again if edited later)."""

    def __init__(self, write: Write = stdout_write) -> None:
        super().__init__(write, echo=True)
        self._latest: dict[str, Shown] = {}  # in order of first appearance
        self._printed: dict[str, str] = {}

    def show(self, shown: Shown) -> None:
        first = self._latest.get(shown.message_id)
        if first is not None:
            shown = Shown(shown.chat, shown.message_id, first.label, shown.version, shown.text, shown.previous)
        self._latest[shown.message_id] = shown

    def end_turn(self) -> None:
        for message_id, shown in self._latest.items():
            printed = self._printed.get(message_id)
            if printed == shown.text:
                continue
            edited = " (edited)" if printed is not None else ""
            self._write(f"{self._where(shown.chat)}{shown.label}{edited}: {indent_block(shown.text)}\n")
            self._printed[message_id] = shown.text


Screen = LiveScreen | EditLogScreen | TranscriptScreen
