"""Paging: ``limit`` with a hard cap, ``offset`` or the opaque ``cursor`` a previous page returned."""

from typing import Annotated

import msgspec
from litestar.params import Parameter

from fieldcrm.lib.errors import InvalidInput

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
MAX_OFFSET = 10_000_000  # far past any list a person pages through; databases overflow at 2**63


class PageParams(msgspec.Struct, frozen=True):
    """Where a page starts and how long it is."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def next_cursor(self, total: int) -> str | None:
        """The cursor of the following page, or None on the last page."""
        following = self.offset + self.limit
        return str(following) if following < total else None


def provide_page(
    limit: Annotated[int, Parameter(description=f"Page size, 1 to {MAX_LIMIT}.")] = DEFAULT_LIMIT,
    offset: Annotated[int, Parameter(description=f"Rows to skip, 0 to {MAX_OFFSET}.")] = 0,
    cursor: Annotated[str | None, Parameter(description="nextCursor of the previous page.")] = None,
) -> PageParams:
    """Dependency that reads and checks the paging parameters."""
    if limit < 1 or limit > MAX_LIMIT:
        msg = f"limit must be between 1 and {MAX_LIMIT}, not {limit}"
        raise InvalidInput(msg, field="limit")
    if cursor is not None:
        if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > len(str(MAX_OFFSET)):
            msg = "cursor is not one this server issued; pass nextCursor back as it came"
            raise InvalidInput(msg, field="cursor")
        offset = int(cursor)
    if offset < 0 or offset > MAX_OFFSET:
        msg = f"offset must be between 0 and {MAX_OFFSET}, not {offset}; use the nextCursor of the previous page"
        raise InvalidInput(msg, field="cursor" if cursor is not None else "offset")
    return PageParams(limit=limit, offset=offset)
