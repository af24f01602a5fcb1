"""The preset keys admins may set (``key=value``), each value validated through the Preset model.

``pacing.<field>`` values are checked against the relay's ``PacingPolicy`` field of that name too, so a
preset can never hold an override the relay would reject later.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, TypeAdapter, ValidationError, create_model

from bot.models import Preset
from bot.relay.policy import PacingPolicy
from bot.text import clip

EDITABLE_KEYS = ("display_name", "avatar_url", "greeting", "trigger", "scope")
PACING_PREFIX = "pacing."
RESET_WORD = "default"  # as a value: back to the key's default (a pacing override is removed)
MAX_DISPLAY_NAME = 80  # Discord's webhook username limit, the tightest of the platforms

KEYS_HELP = (
    "keys: display_name, avatar_url, greeting (true/false), trigger (mention/all), "
    "scope (channel/user), pacing.<field> (a number); any value 'default' resets the key"
)

_URL = TypeAdapter(AnyHttpUrl)


class OptionError(ValueError):
    """A bad key or value, phrased as one line for the chat."""


class PresetChange(BaseModel):
    """One validated change to a preset; ``value`` None means back to the default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str  # one of EDITABLE_KEYS, or "pacing.<field>"
    value: str | bool | float | None

    def describe(self) -> str:
        return f"{self.key}={RESET_WORD if self.value is None else clip(str(self.value))}"


def pacing_fields() -> list[str]:
    return sorted(PacingPolicy.model_fields)


def parse_change(key: str, raw: str) -> PresetChange:
    """Validate one ``key``/``value`` pair; raises OptionError with a one-line reason."""
    key = key.strip().lower()
    raw = raw.strip()
    if key.startswith(PACING_PREFIX):
        return _pacing_change(key, raw)
    if key not in EDITABLE_KEYS:
        raise OptionError(f"unknown key '{clip(key)}' (keys: {', '.join(EDITABLE_KEYS)}, {PACING_PREFIX}<field>)")
    if raw.lower() == RESET_WORD:
        return PresetChange(key=key, value=None)
    try:
        checked = Preset.model_validate({"name": "check", key: raw})
    except ValidationError as exc:
        raise OptionError(f"{key}: {one_line(exc)}") from None
    value: str | bool | float | None = getattr(checked, key)
    if key == "display_name" and isinstance(value, str) and not 1 <= len(value) <= MAX_DISPLAY_NAME:
        raise OptionError(f"display_name: must be 1 to {MAX_DISPLAY_NAME} characters")
    if key == "avatar_url":
        try:
            _URL.validate_python(value)
        except ValidationError:
            raise OptionError("avatar_url: must be an http:// or https:// address") from None
    return PresetChange(key=key, value=value)


def _pacing_change(key: str, raw: str) -> PresetChange:
    field = key[len(PACING_PREFIX) :]
    if field not in PacingPolicy.model_fields:
        raise OptionError(f"unknown pacing field '{clip(field)}'; known: {', '.join(pacing_fields())}")
    if raw.lower() == RESET_WORD:
        return PresetChange(key=key, value=None)
    try:
        number = Preset.model_validate({"name": "check", "pacing": {field: raw}}).pacing[field]
        _pacing_checker(field).model_validate({"value": number})
    except ValidationError as exc:
        raise OptionError(f"{key}: {one_line(exc)}") from None
    return PresetChange(key=key, value=number)


@cache
def _pacing_checker(field: str) -> type[BaseModel]:
    """A one-field model carrying the PacingPolicy field's own type and bounds."""
    info = PacingPolicy.model_fields[field]
    definition: Any = (info.annotation, info)
    return create_model(f"Pacing_{field}", value=definition)


def apply_changes(preset: Preset, changes: Iterable[PresetChange]) -> Preset:
    """The preset with the changes applied, validated as a whole."""
    data = preset.model_dump()
    for change in changes:
        if change.key.startswith(PACING_PREFIX):
            pacing = dict(data["pacing"])
            field = change.key[len(PACING_PREFIX) :]
            if change.value is None:
                pacing.pop(field, None)
            else:
                pacing[field] = change.value
            data["pacing"] = pacing
        elif change.value is None:
            data[change.key] = Preset.model_fields[change.key].get_default(call_default_factory=True)
        else:
            data[change.key] = change.value
    return Preset.model_validate(data)


def _first_error(exc: ValidationError) -> str:
    message = str(exc.errors()[0]["msg"])
    return message.removeprefix("Value error, ")


def one_line(exc: ValueError) -> str:
    """A validation failure as one line (pydantic's own text spans several)."""
    return _first_error(exc) if isinstance(exc, ValidationError) else str(exc).splitlines()[0]
