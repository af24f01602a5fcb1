"""``charbridge sandbox --script``: the whole bridge on the fakes, replayed from a file, as a transcript."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.admin.permissions import REFUSALS, Access
from bot.admin.render import bound
from bot.door import NO_TEXT
from charbridge.cli import main
from fakes.characterai import DEMO_CHARACTERS
from sandbox.demo import demo_presets
from tests.sandbox.support import (
    BOT,
    ECHO,
    REDBEARD,
    ROOT,
    ZORA,
    bot_lines,
    finals,
    run_script,
)

PRESETS = {preset.name: preset for preset in demo_presets(DEMO_CHARACTERS)}


def test_private_chat_group_mention_and_an_admin_switching_the_character(tmp_path: Path) -> None:
    script = [
        "hello there, friend",
        ":chat group Tavern",
        f"{BOT} who are you?",
        "/preset use zora",  # Alice is not an administrator of the group yet: refused
        ":admin on",
        "/preset use zora",
        f"{BOT} will it rain?",
        "/quit",
    ]
    # A real-looking token and API in the environment must not reach the sandbox's bridge.
    result = run_script(
        tmp_path, script, CHARBRIDGE_TELEGRAM__TOKEN="123456:ENV-TOKEN", CHARBRIDGE_TELEGRAM__BASE_URL="http://x/bot"
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    transcript = result.stdout
    assert "Alice@private> hello there, friend" in transcript
    assert f"Alice@Tavern> {BOT} will it rain?" in transcript
    assert [(line.speaker, line.text) for line in bot_lines(transcript)] == [
        (REDBEARD.name, REDBEARD.reply_to("hello there, friend")),
        (REDBEARD.name, REDBEARD.reply_to("who are you?")),
        (REDBEARD.name, REFUSALS[Access.CONVERSATION]),
        (ZORA.name, bound(PRESETS["zora"], None)),
        (ZORA.name, ZORA.greeting),
        (ZORA.name, ZORA.reply_to("will it rain?")),
    ]


def test_show_edits_prints_the_reply_growing_to_its_exact_text(tmp_path: Path) -> None:
    text = "tell me a long story about the sea, the gulls, the storms and the harbour lights"
    mistakes = [":nonsense", ":reply hi", ":admin maybe", ":user 9lives"]  # explained, nothing sent
    result = run_script(tmp_path, [*mistakes, text, ":counters"], "--show-edits")

    assert result.returncode == 0, result.stderr
    notes = "\n".join(line for line in result.stdout.splitlines() if line.startswith("# "))
    for explained in ("unknown sandbox command :nonsense", "nothing to reply to", "usage: :admin on|off",
                      "usage: :user NAME"):  # fmt: skip
        assert explained in notes
    lines = bot_lines(result.stdout)
    expected = REDBEARD.reply_to(text)
    assert finals(lines) == [(REDBEARD.name, expected)]
    versions = [line.text for line in lines]
    assert len(versions) >= 2, "the reply should have been posted, then edited"
    assert all(expected.startswith(version) for version in versions)
    assert [line.edit for line in lines] == list(range(len(lines)))
    assert f"{len(lines) - 1} edits" in result.stdout  # :counters counts the same edits the fake saw


def test_a_chosen_data_directory_keeps_bindings_for_the_next_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = run_script(tmp_path, ["/preset use echo", "first message"], "--data-dir", str(data))
    assert first.returncode == 0, first.stderr
    assert (ECHO.name, ECHO.reply_to("first message")) in [(b.speaker, b.text) for b in bot_lines(first.stdout)]

    # A new fake Telegram and Character.AI, the same store: the binding holds, the conversation starts anew.
    second = run_script(tmp_path, ["first message", "/status"], "--data-dir", str(data))
    assert second.returncode == 0, second.stderr
    replies = bot_lines(second.stdout)
    assert (replies[0].speaker, replies[0].text) == (ECHO.name, ECHO.reply_to("first message"))
    assert replies[1].text.startswith("Character: echo")
    assert (data / "sandbox.log").read_text().strip(), "the log goes to the data directory"
    assert "INFO" not in first.stdout + second.stdout


def test_a_missing_script_is_one_line_and_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "--script", str(tmp_path / "nope.txt")]) == 2
    err = capsys.readouterr().err
    assert "cannot read the script" in err and len(err.strip().splitlines()) == 1


def test_sandbox_help_and_a_bad_time_scale(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as shown:
        main(["sandbox", "--help"])
    assert shown.value.code == 0
    usage = capsys.readouterr().out
    assert "usage: charbridge sandbox" in usage and "--script FILE" in usage and "--data-dir DIR" in usage
    with pytest.raises(SystemExit) as refused:
        main(["sandbox", "--time-scale", "0"])
    assert refused.value.code == 2
    assert "--time-scale" in capsys.readouterr().err


def test_the_example_tour_runs_as_the_readme_shows_it(tmp_path: Path) -> None:
    tour = (ROOT / "sandbox" / "examples" / "tour.txt").read_text().splitlines()
    result = run_script(tmp_path, tour, scale="0.03")
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stdout.splitlines() if line.startswith("# ")]
    assert not [note for note in notes if "usage:" in note or "unknown sandbox command" in note]
    said = [(line.speaker, line.text) for line in bot_lines(result.stdout)]
    assert (ZORA.name, ZORA.reply_to("will I find the treasure?")) in said
    assert (ZORA.name, ZORA.reply_to("and what about me?")) in said  # Bob's :reply reached the bot


def test_a_line_telegram_could_not_send_is_a_note_not_a_crash(tmp_path: Path) -> None:
    script = ["x" * 5000, "\u200b\u200c", "\u2060", "/quit"]
    result = run_script(tmp_path, script)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Telegram does not send a message of 5000 characters (at most 4096)" in result.stdout
    assert "Telegram does not send an empty message" in result.stdout
    assert [line.text for line in bot_lines(result.stdout)] == [NO_TEXT]
