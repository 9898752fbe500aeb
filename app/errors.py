"""Errors a user can cause, each with a message written for a student.

The core libraries and the services raise these; they know nothing of HTTP. The web layer maps each
kind to its status (app/web/http.py: STATUS): the API answers ``{"detail": message}`` JSON and the
pages show the message in place.
"""

from __future__ import annotations


class AppError(Exception):
    retry_after: int | None = None  # seconds after which trying again makes sense, when it does

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedImage(AppError):
    """Not a picture format we read (whatever its name or declared type)."""


class ImageTooLarge(AppError):
    """An upload or a picture over the size limits."""


class BrokenImage(AppError):
    """A picture file that cannot be decoded (broken or truncated)."""


class BadShape(AppError):
    """An image whose proportions no model input can be made from (a 20,000,000 × 1 strip)."""


class BadRequest(AppError):
    """Input that is well formed but not valid (an unknown class, a value out of range)."""


class InvalidField(BadRequest):
    """Invalid input in one field: pages show the message beside that field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Forbidden(AppError):
    """Not allowed for this client (another site, or a cancel without its token)."""


class NotFound(AppError):
    """An unknown model, image, sample, job or session."""


class ImageGone(NotFound):
    """A stored image that is not there (evicted from the bounded store, or never uploaded here).

    Pages answer it with a link to upload the picture again."""


class ModelUnavailable(AppError):
    """A model that could not be loaded here (the reason says why)."""


class Busy(AppError):
    """``retry_after``: 2 s by default, or what the message says."""

    retry_after = 2

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        if retry_after is not None:
            self.retry_after = retry_after


class DeadlineExceeded(AppError):
    """Work that ran past its time limit."""


class OutOfMemory(AppError):
    """The device ran out of memory for this one request; others go on."""

    retry_after = 5


class ClientGone(AppError):
    """The client closed the connection (or the deadline passed), so the work was stopped.

    Nobody reads the answer."""
