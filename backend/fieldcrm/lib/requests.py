"""The request class of the app: a JSON body is checked before it is decoded, and booleans are strict.

A body that is not UTF-8, or that nests deeper than any API shape does (``[`` 100,000 times), would
otherwise reach the decoder and fail as a server error (a RecursionError, or a UnicodeDecodeError in
a string field later). Both are the sender's mistake: 400 with a message, before anything else runs.
"""

import itertools
import re
import typing
from typing import Any

import msgspec
from litestar import Request

from fieldcrm.lib.errors import DomainError
from fieldcrm.lib.structs import bool_error

MAX_JSON_DEPTH = 64  # the deepest API shape (a sync mutation's args, a workflow definition) is under 10
_BRACKETS = bytes(range(256)).translate(None, b"[]{}")  # every byte except the four brackets
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


class BadBody(DomainError):
    """The request body cannot be read as JSON at all."""

    status_code = 400
    title = "Invalid request body"


def _depth(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (at most; the decoder judges the rest)."""
    brackets = body.translate(None, _BRACKETS)
    if len(brackets) <= MAX_JSON_DEPTH:  # the common case: few brackets, no need to look closer
        return len(brackets)
    brackets = _STRING.sub(b"", body).translate(None, _BRACKETS)  # brackets inside strings do not nest
    steps = (1 if b in b"[{" else -1 for b in brackets)
    return max(itertools.accumulate(steps), default=0)


def check_json_body(body: bytes) -> None:
    """Refuse a body that is not UTF-8 or nests deeper than ``MAX_JSON_DEPTH``.

    Raises:
        BadBody: What is wrong with the body, and where.
    """
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"the request body is not UTF-8 text (byte {exc.start} is not valid); send JSON encoded as UTF-8"
        raise BadBody(msg) from None
    if _depth(body) > MAX_JSON_DEPTH:
        msg = f"the JSON nests more than {MAX_JSON_DEPTH} arrays or objects deep; no request of this API does"
        raise BadBody(msg)


_DATA_TYPES: dict[int, Any] = {}


def _data_type(handler: Any) -> Any | None:
    """The type of the handler's ``data`` parameter when it is a Struct (or a list of them), else None."""
    key = id(handler)
    if key not in _DATA_TYPES:
        found = None
        parameter = handler.parsed_fn_signature.parameters.get("data")
        if parameter is not None:
            annotation = parameter.annotation
            inner = (
                getattr(annotation, "__args__", (annotation,))[0]
                if typing.get_origin(annotation) is list
                else annotation
            )
            if isinstance(inner, type) and issubclass(inner, msgspec.Struct):
                found = annotation
        _DATA_TYPES[key] = found
    return _DATA_TYPES[key]


class FieldcrmRequest(Request[Any, Any, Any]):
    """Litestar's request, with the JSON body checked before it is decoded."""

    async def json(self) -> Any:
        """The decoded JSON body, once it passed ``check_json_body`` and booleans are ``true``/``false`` only."""
        body = await self.body()
        check_json_body(body)
        data_type = _data_type(self.route_handler)
        if data_type is not None and (wrong := bool_error(body, data_type)) is not None:
            field, message = wrong
            raise BadBody(f"{field}: {message}", field=field or None)
        try:
            return await super().json()
        except RecursionError:  # the decoder's own limit, should a shape slip past the count
            msg = "the JSON nests too deeply to read"
            raise BadBody(msg) from None
