"""Errors every edge (CLI, API) knows how to render without a traceback.

Messages never contain personal values: they name lines, fields and keys, not what was in them.
"""

__all__ = ["Conflict", "Denied", "InvalidInput", "NotFound", "TutelaError"]


class TutelaError(Exception):
    """Base of every error Tutela reports to a user."""

    http_status = 400


class InvalidInput(TutelaError):
    """Input that does not fit the policy or the expected format."""

    http_status = 422

    def __init__(self, message: str, *, location: str | None = None) -> None:
        self.location = location
        self.message = message
        super().__init__(f"{location}: {message}" if location else message)


class NotFound(TutelaError):
    http_status = 404


class Conflict(TutelaError):
    http_status = 409


class Denied(TutelaError):
    """The authorisation gate said no; the message is the reason."""

    http_status = 403
