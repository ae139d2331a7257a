"""Structured logs: one JSON object a line, carrying the request id of the request being served.

``fieldcrm serve`` hands ``log_config()`` to uvicorn, so the server's own lines, the application's and
the access line the request middleware writes (``fieldcrm.access``) all come out as JSON that a log
shipper can parse without rules.
"""

import contextvars
import datetime
import logging
import re
import uuid
from typing import Any

import msgspec

ACCESS_LOGGER = "fieldcrm.access"
REQUEST_ID_HEADER = "x-request-id"
# What a proxy or client may choose as an id: short, printable, no spaces or quotes (it goes into logs and headers).
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("fieldcrm_request_id", default="")

# LogRecord's own attributes: everything else on a record came from ``extra=`` and goes into the line.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


def current_request_id() -> str:
    """The id of the request this code serves ("" outside a request)."""
    return _request_id.get()


def set_request_id(value: str) -> contextvars.Token[str]:
    """Make ``value`` the current request id (the middleware does this for every request)."""
    return _request_id.set(value)


def reset_request_id(token: contextvars.Token[str]) -> None:
    """Undo ``set_request_id``."""
    _request_id.reset(token)


def choose_request_id(incoming: str | None) -> str:
    """The caller's X-Request-ID when it is sane (so a proxy's id follows the request), else a new one."""
    if incoming and _SANE_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: time, level, logger, message, request id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        """One line of JSON for ``record``."""
        line: dict[str, Any] = {
            "ts": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            line["requestId"] = request_id
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(line, enc_hook=str).decode()


def log_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the server: JSON lines on stderr, uvicorn's access log replaced."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"level": level},
            "uvicorn.error": {"level": level},
            # fieldcrm.access writes one line per request with the route, user and request id instead
            "uvicorn.access": {"level": "WARNING"},
        },
    }
