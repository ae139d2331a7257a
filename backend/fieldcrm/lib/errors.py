"""Domain errors: services raise these; create_app maps them to HTTP once."""

from typing import Any


class DomainError(Exception):
    """A use case could not be carried out; the message is for the person who asked."""

    status_code = 400
    title = "Bad request"

    def __init__(self, message: str, *, field: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}


class InvalidInput(DomainError):
    """A value breaks a rule the schema cannot express."""

    status_code = 422
    title = "Invalid input"


class NotFound(DomainError):
    """The object does not exist, or the caller may not see it (the same answer on purpose)."""

    status_code = 404
    title = "Not found"


class Forbidden(DomainError):
    """The caller is known but their role does not allow this operation."""

    status_code = 403
    title = "Forbidden"


class NotAuthenticated(DomainError):
    """No valid session or token."""

    status_code = 401
    title = "Not authenticated"


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate code, an illegal transition)."""

    status_code = 409
    title = "Conflict"


class PayloadTooLarge(DomainError):
    """The request carries more than one call may."""

    status_code = 413
    title = "Request too large"


class Unavailable(DomainError):
    """A passing failure (a busy database): nothing was done, send the same request again later."""

    status_code = 503
    title = "Try again shortly"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooManyRequests(DomainError):
    """The caller must wait before trying again."""

    status_code = 429
    title = "Too many requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
