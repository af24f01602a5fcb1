"""Backends are registered by name in the composition root and chosen by the preset's ``backend``; the names a
preset may use are exactly the registered ones, and the core never names a backend."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
from pydantic import ValidationError

from backends.characterai import CharacterAIBackend
from bot.models import BackendName, Preset
from charbridge.app import BACKENDS, build_upstreams
from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_a_preset_names_one_of_the_registered_backends() -> None:
    assert set(BACKENDS) == set(get_args(BackendName))
    for name in BACKENDS:
        assert Preset(name="p", character_id="c", backend=name).backend == name
    with pytest.raises(ValidationError) as caught:
        Preset(name="p", character_id="c", backend="no-such-backend")  # type: ignore[arg-type]
    assert "characterai" in str(caught.value)  # the error lists the names that would do


def test_only_configured_backends_are_built(tmp_path: Path) -> None:
    assert build_upstreams(Settings(bridge={"data_dir": tmp_path})) == {}
    built = build_upstreams(Settings(bridge={"data_dir": tmp_path}, characterai={"token": "t0ken-for-the-test"}))
    assert list(built) == ["characterai"] and isinstance(built["characterai"], CharacterAIBackend)


@pytest.mark.parametrize("module", ["bot/service.py", "bot/npc/service.py", "bot/npc/turns.py", "bot/core.py"])
def test_the_service_never_names_a_backend(module: str) -> None:
    text = (ROOT / module).read_text().casefold()
    assert "characterai" not in text and "character.ai" not in text
