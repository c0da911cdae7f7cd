"""Errors every edge (CLI, API) knows how to render without a traceback.

Messages never contain personal values: they name lines, fields and keys, not what was in them.
"""

__all__ = ["Conflict", "Denied", "InvalidInput", "NotFound", "TutelaError", "Unreadable"]


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


class Unreadable(NotFound):
    """A read refused for what is true of the person, answered as an unknown id is: nobody
    learns from a refusal who is in the store. `reason` is for the trail and the console."""

    def __init__(self, external_id: str, purpose: str, *, reason: str) -> None:
        self.reason = reason
        super().__init__(f"no subject '{external_id}' that you may read for '{purpose}'")


class Conflict(TutelaError):
    http_status = 409


class Denied(TutelaError):
    """The authorisation gate said no; the message is the reason."""

    http_status = 403
