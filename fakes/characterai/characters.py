"""Fake characters, their deterministic reply styles, and the built-in demo cast."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field

from fakes.characterai.wire import JsonDict

ReplyStyle = Literal["echo", "pirate", "librarian", "oracle"]


class FakeCharacter(BaseModel):
    """A character the fake serves. ``style`` picks a deterministic reply generator; ``chunk_chars`` and
    ``snapshot_delay`` override the server's streaming settings for this character."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    greeting: str = ""
    avatar: str = ""  # avatar_file_name, e.g. "demo/redbeard.webp"
    title: str = ""
    description: str = ""
    definition: str = ""
    style: ReplyStyle = "echo"
    visibility: Literal["PUBLIC", "UNLISTED", "PRIVATE"] = "PUBLIC"
    creator_username: str = "fake-creator"
    chunk_chars: int | None = Field(default=None, ge=1)
    snapshot_delay: float | None = Field(default=None, ge=0)

    def reply_to(self, user_text: str, variant: int = 0) -> str:
        """The same input (and variant, for regenerations) always gives the same reply."""
        return _STYLES[self.style](self, user_text, variant)

    def info(self) -> JsonDict:
        """The ``character`` object of ``get_character_info`` (Django-style field names)."""
        return {
            "external_id": self.id,
            "title": self.title,
            "name": self.name,
            "participant__name": self.name,
            "user__username": self.creator_username,
            "participant__user__username": f"internal_id:{self.id}",
            "greeting": self.greeting,
            "description": self.description,
            "definition": self.definition,
            "identifier": f"id:{self.id}",
            "visibility": self.visibility,
            "copyable": False,
            "participant__num_interactions": 0,
            "upvotes": 0,
            "num_likes": 0,
            "avatar_file_name": self.avatar,
            "img_gen_enabled": False,
            "base_img_prompt": "",
            "img_prompt_regex": "",
            "strip_img_prompt_from_msg": False,
            "voice_id": "",
            "default_voice_id": "",
            "songs": [],
            "starter_prompts": {"phrases": []},
            "comments_enabled": False,
            "usage": "default",
            "short_hash": self.id[:8],
        }

    def avatar_url(self) -> str:
        if not self.avatar:
            return ""
        return f"https://characterai.io/i/80/static/avatars/{self.avatar}?webp=true&anim=0"


def _pick(options: list[str], text: str, variant: int, salt: str) -> str:
    digest = hashlib.sha256(f"{salt}|{variant}|{text}".encode()).digest()
    return options[digest[0] % len(options)]


def _echo(character: FakeCharacter, text: str, variant: int) -> str:
    prefix = "Echo" if variant == 0 else f"Echo #{variant + 1}"
    return f"{prefix}: {text}"


_PIRATE_WORDS = {
    "hello": "ahoy",
    "hi": "ahoy",
    "you": "ye",
    "your": "yer",
    "my": "me",
    "is": "be",
    "are": "be",
    "friend": "matey",
    "yes": "aye",
    "the": "th'",
}
_PIRATE_OPENERS = ["Arr!", "Yo-ho-ho!", "Shiver me timbers!", "Avast!", "Blow me down!"]
_PIRATE_CLOSERS = [
    "Now hoist the mainsail!",
    "The sea be callin', matey.",
    "That be worth more than a chest o' doubloons.",
    "Keep a weather eye on the horizon.",
]


def _piratify(text: str) -> str:
    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        pirate = _PIRATE_WORDS.get(word.lower())
        if pirate is None:
            return word
        return pirate.capitalize() if word[0].isupper() else pirate

    return re.sub(r"[A-Za-z']+", swap, text)


def _pirate(character: FakeCharacter, text: str, variant: int) -> str:
    opener = _pick(_PIRATE_OPENERS, text, variant, "pirate-open")
    closer = _pick(_PIRATE_CLOSERS, text, variant, "pirate-close")
    said = _piratify(text.strip()) or "nothin'"
    return f'{opener} Ye say "{said}"? {closer}'


_LIBRARIAN_OPENERS = [
    "Ah, a fine question.",
    "Let me check the card catalogue.",
    "Shh... but yes, I can help with that.",
    "What a delightful enquiry.",
]
_LIBRARIAN_SHELVES = ["history", "natural sciences", "poetry", "reference", "maritime lore", "philosophy"]


def _librarian(character: FakeCharacter, text: str, variant: int) -> str:
    opener = _pick(_LIBRARIAN_OPENERS, text, variant, "lib-open")
    shelf = _pick(_LIBRARIAN_SHELVES, text, variant, "lib-shelf")
    words = len(text.split())
    return (
        f"{opener} Your note of {words} word{'s' if words != 1 else ''} belongs in the {shelf} section. "
        f'I have filed "{text.strip()}" under the letter {(text.strip()[:1] or "?").upper()}.'
    )


_ORACLE_VISIONS = [
    "a door that opens inward",
    "three crows on a silver wire",
    "a letter you have not yet written",
    "rain on a Tuesday",
    "a friend returning from far away",
]


def _oracle(character: FakeCharacter, text: str, variant: int) -> str:
    vision = _pick(_ORACLE_VISIONS, text, variant, "oracle")
    return f"The crystal ball clouds over... When you ask \"{text.strip()}\", I see {vision}. Ask again."


_STYLES: dict[str, Callable[[FakeCharacter, str, int], str]] = {
    "echo": _echo,
    "pirate": _pirate,
    "librarian": _librarian,
    "oracle": _oracle,
}


DEMO_CHARACTERS: tuple[FakeCharacter, ...] = (
    FakeCharacter(
        id="demo_captain_redbeard",
        name="Captain Redbeard",
        title="Terror of the Seven Seas",
        greeting="Ahoy, matey! Captain Redbeard at yer service. What brings ye aboard the Salty Gull?",
        description="A loud, kind-hearted pirate captain who speaks only in pirate.",
        avatar="demo/redbeard.webp",
        style="pirate",
    ),
    FakeCharacter(
        id="demo_ms_marginalia",
        name="Ms. Marginalia",
        title="Head librarian of the Quiet Stacks",
        greeting="Welcome to the Quiet Stacks. I'm Ms. Marginalia. What shall we look up today?",
        description="A precise librarian who files every message on the right shelf.",
        avatar="demo/marginalia.webp",
        style="librarian",
    ),
    FakeCharacter(
        id="demo_echo",
        name="Echo",
        title="Repeats whatever you say",
        greeting="Hello, I am Echo. Whatever you say, I say it back.",
        description="A test character whose reply is 'Echo: ' followed by your message.",
        avatar="demo/echo.webp",
        style="echo",
    ),
    FakeCharacter(
        id="demo_madame_zora",
        name="Madame Zora",
        title="Fortune teller",
        greeting="The crystal ball glows... Madame Zora sees that you have a question.",
        description="A theatrical fortune teller with a vision for every question.",
        avatar="demo/zora.webp",
        style="oracle",
    ),
)
