"""Log lines that say which round they are about, as text or as one JSON object a line.

A round id reaches a log record from `extra={"round_id": 7}`, or from the `about_round` block it is
logged in (a context variable, so concurrent updates and the scheduler never mix theirs up).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_ROUND: ContextVar[int | None] = ContextVar("redheart_round", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(round_tag)s: %(message)s"


@contextmanager
def about_round(round_id: int) -> Iterator[None]:
    """Every record logged inside the block carries `round_id`."""
    token = _ROUND.set(round_id)
    try:
        yield
    finally:
        _ROUND.reset(token)


class RoundFilter(logging.Filter):
    """Puts `round_id` (or None) and `round_tag` (" [round 7]" or "") on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        round_id = getattr(record, "round_id", None) or _ROUND.get()
        record.round_id = round_id
        record.round_tag = f" [round {round_id}]" if round_id is not None else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO-8601), level, logger, message, round_id, and exc."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        round_id = getattr(record, "round_id", None)
        if round_id is not None:
            line["round_id"] = round_id
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(fmt: str, level: int = logging.INFO) -> None:
    """The root logger's handlers write `fmt` ("text" or "json") with round ids."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    root.setLevel(level)
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
        if not any(isinstance(f, RoundFilter) for f in handler.filters):
            handler.addFilter(RoundFilter())
