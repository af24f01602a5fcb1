from __future__ import annotations

import logging

import pytest

from bot.logsetup import RedactSecrets
from charbridge.app import secrets_of
from config.settings import Settings


def test_tokens_never_reach_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(
        telegram={"token": "123:TEST-SECRET-TOKEN"}, characterai={"token": "Token cai-secret-value"}
    )
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactSecrets(secrets_of(settings)))
    with caplog.at_level(logging.INFO, logger="test.redaction"):
        logger.info("POST https://api.telegram.org/bot%s/getMe", "123:TEST-SECRET-TOKEN")
        try:
            raise RuntimeError("bad header Authorization: Token cai-secret-value")
        except RuntimeError:
            logger.exception("failed")
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "TEST-SECRET" not in text and "cai-secret-value" not in text
    assert text.count("[redacted]") >= 2
