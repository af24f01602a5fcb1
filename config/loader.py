"""Loading settings from a TOML file plus the environment, with one clear line per problem."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from config.settings import Settings

DEFAULT_CONFIG_FILE = Path("charbridge.toml")
CONFIG_ENV = "CHARBRIDGE_CONFIG"


class ConfigError(Exception):
    """A configuration problem, already phrased for the operator (one line per problem)."""


def resolve_config_path(explicit: Path | None) -> Path | None:
    """The file named on the command line, else $CHARBRIDGE_CONFIG, else ./charbridge.toml if present."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory, expected a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def describe_errors(error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        shown = item.get("input")
        if item["type"] in {"missing", "extra_forbidden"} or isinstance(shown, dict | list):
            lines.append(f"{key}: {message}")
        else:
            # Secrets are SecretStr fields, whose errors never come with a raw value worth showing.
            lines.append(f"{key}: {message} (got {shown!r})")
    return lines


def load_settings(path: Path | None = None, env_file: Path | None = None) -> Settings:
    data = read_toml(path) if path is not None else {}
    try:
        if env_file is not None:
            return Settings(_env_file=env_file, **data)  # type: ignore[call-arg]
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError("\n".join(describe_errors(exc))) from None
