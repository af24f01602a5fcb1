"""The charbridge command as an operator meets it: a summary, clear one-line errors, exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "example.toml"


def charbridge(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CHARBRIDGE_")}
    clean["PYTHONPATH"] = str(ROOT)
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "charbridge", *args], cwd=cwd, env=clean, capture_output=True, text=True, timeout=60
    )


def test_check_with_the_example_config_prints_a_summary(tmp_path: Path) -> None:
    result = charbridge("check", "--config", str(EXAMPLE), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "store: sqlite at data/charbridge.sqlite3" in result.stdout
    assert "assistant: characterai character YOUR_CHARACTER_ID" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_check_shows_platforms_without_their_secrets(tmp_path: Path) -> None:
    env = {
        "CHARBRIDGE_TELEGRAM__TOKEN": "123:TEST-SECRET",
        "CHARBRIDGE_STORAGE__REDIS_URL": "redis://:hunter2@localhost:6379/0",
    }
    result = charbridge("check", "--config", str(EXAMPLE), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "telegram (polling" in result.stdout
    assert "redis at redis://localhost:6379/0" in result.stdout
    assert "TEST-SECRET" not in result.stdout and "hunter2" not in result.stdout


def test_an_invalid_value_names_the_key_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[http]\nport = "eighty"\n')
    result = charbridge("check", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "http.port" in result.stderr and "'eighty'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_environment_value_names_the_key(tmp_path: Path) -> None:
    result = charbridge("check", cwd=tmp_path, env={"CHARBRIDGE_TELEGRAM__MODE": "carrier-pigeon"})
    assert result.returncode == 2
    assert "telegram.mode" in result.stderr and "carrier-pigeon" in result.stderr


def test_broken_toml_and_missing_file_are_one_line_each(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[bridge\n")
    result = charbridge("check", "--config", str(broken), cwd=tmp_path)
    assert result.returncode == 2 and "not valid TOML" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    missing = charbridge("run", "--config", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_run_with_nothing_configured_says_what_to_set(tmp_path: Path) -> None:
    result = charbridge("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "CHARBRIDGE_TELEGRAM__TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_everywhere(tmp_path: Path) -> None:
    for args in (["--help"], ["run", "--help"], ["check", "--help"]):
        result = charbridge(*args, cwd=tmp_path)
        assert result.returncode == 0 and "usage: charbridge" in result.stdout
