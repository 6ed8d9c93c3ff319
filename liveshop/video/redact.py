"""Keeping secrets out of logs: stream keys, and the media server's callback secret.

Our own code logs key prefixes only. What we do not write ourselves is filtered here:
nginx's log lines (piped into structlog by ``media_server.py``) and uvicorn's access log
(the callback URL carries ``?s=<callback secret>``).
"""

from __future__ import annotations

import logging
import re

from liveshop.video.hls import FOLDER_NAME

KEY_PATTERN = re.compile(r"lsk_[A-Za-z0-9_-]{8,}")
_CALLBACK_SECRET = re.compile(r"([?&]s=)[^&\s'\"]+")
_QUOTED = re.compile(r"\b(name|args|playpath)='([^']*)'")
_KEY_SHOWN = 10  # same as KEY_PREFIX_LEN: the part pages show anyway


def redact(text: str) -> str:
    """``text`` without stream keys (each becomes its prefix and "…") or callback secrets."""
    text = KEY_PATTERN.sub(lambda m: m.group(0)[:_KEY_SHOWN] + "…", text)
    return _CALLBACK_SECRET.sub(r"\1[redacted]", text)


def redact_line(line: str) -> str:
    """An nginx log line made safe: stream names other than our public folder names are
    replaced (an encoder may send anything — a mistyped key is still a secret)."""

    def _quoted(m: re.Match[str]) -> str:
        value = m.group(2)
        if m.group(1) == "name" and (value == "" or FOLDER_NAME.fullmatch(value)):
            return m.group(0)
        return f"{m.group(1)}='[redacted]'"

    return redact(_QUOTED.sub(_quoted, line))


class RedactFilter(logging.Filter):
    """A stdlib logging filter (uvicorn's access log) applying ``redact`` to the arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_log_filters() -> None:
    """Idempotent: filter uvicorn's access log."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactFilter) for f in access.filters):
        access.addFilter(RedactFilter())
