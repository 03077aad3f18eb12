"""Logs as one JSON object per line, each with the request id of the request it belongs to.

``configure_logging`` replaces the root handler once, at import of ``app.main``; uvicorn's own
loggers propagate to it. ``request_id`` holds the id of the request being served (set by
``app.core.request_id``), so every line logged while serving it carries it, also from libraries.
"""

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

_make_record = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:  # noqa: ANN401 - LogRecord's own signature
    # Taken when the line is logged, not when it is written: a handler may format it later.
    record = _make_record(*args, **kwargs)
    record.request_id = request_id.get()
    return record


logging.setLogRecordFactory(_record_with_request_id)

# LogRecord attributes that are not extra fields passed with `logger.info(..., extra={...})`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "request_id", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid is not None:
            entry["request_id"] = rid
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if name == "uvicorn.access" and not logger.handlers and not logger.propagate:
            # `uvicorn --no-access-log` left it so (uvicorn configures its loggers before it
            # imports the app): no access lines, as asked, rather than one JSON line per request.
            continue
        logger.handlers[:] = []
        logger.propagate = True
    # httpx logs every request at INFO; keep that for DEBUG.
    logging.getLogger("httpx").setLevel(logging.DEBUG if debug else logging.WARNING)
