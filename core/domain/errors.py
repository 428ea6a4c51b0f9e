"""Domain errors: each says what went wrong in words a person can act on.

The server maps each class to one gRPC status code in one place (server/errors.py).
"""


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidArgument(DomainError):
    """The request itself is wrong; sending it again will fail again."""


class NotFound(DomainError):
    """The thing asked for does not exist (or is not the caller's to see)."""


class PermissionDenied(DomainError):
    """The caller is known but this is not theirs to do (another FC's parcel, say)."""


class FailedPrecondition(DomainError):
    """The request is valid but the system is not in a state that allows it."""


class AlreadyExists(DomainError):
    """Creating something that is already there."""


class Unavailable(DomainError):
    """A passing condition (busy database, unreachable gateway); retrying may succeed."""
