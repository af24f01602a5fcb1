from __future__ import annotations

from adapters.telegram.render import markdown_to_html


def test_markdown_emphasis_becomes_telegram_html() -> None:
    assert markdown_to_html("*waves* hello **friend**") == "<i>waves</i> hello <b>friend</b>"


def test_html_special_characters_are_escaped() -> None:
    assert markdown_to_html("a < b & c > d") == "a &lt; b &amp; c &gt; d"


def test_code_is_kept_verbatim_and_escaped() -> None:
    text = "run `x < *y*` then\n```python\nif a < b:\n    pass\n```"
    assert markdown_to_html(text) == "run <code>x &lt; *y*</code> then\n<pre>if a &lt; b:\n    pass\n</pre>"


def test_lone_asterisks_are_left_alone() -> None:
    assert markdown_to_html("2 * 3 = 6 and a*b") == "2 * 3 = 6 and a*b"
