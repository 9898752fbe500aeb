"""Errors a user can cause, each with its HTTP status and a message written for a student.

Services raise these; the API turns them into ``{"detail": message}`` JSON and the pages show the
message in place.
"""

from __future__ import annotations


class AppError(Exception):
    status_code = 400
    headers: dict[str, str] = {}

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedImage(AppError):
    status_code = 415


class ImageTooLarge(AppError):
    status_code = 413


class BrokenImage(AppError):
    status_code = 422


class BadShape(AppError):
    """An image whose proportions no model input can be made from (a 20,000,000 × 1 strip)."""

    status_code = 422


class BadRequest(AppError):
    status_code = 422


class InvalidField(BadRequest):
    """A 422 about one input field: pages show the message beside that field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Forbidden(AppError):
    status_code = 403


class NotFound(AppError):
    status_code = 404


class ImageGone(NotFound):
    """A stored image that is not there (evicted from the bounded store, or never uploaded here).

    Pages answer it with a link to upload the picture again."""


class ModelUnavailable(AppError):
    status_code = 503


class Busy(AppError):
    """Retry-After says when to try again: 2 s by default, or what the message says."""

    status_code = 503
    headers = {"Retry-After": "2"}

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        if retry_after is not None:
            self.headers = {"Retry-After": str(retry_after)}


class DeadlineExceeded(AppError):
    status_code = 504


class OutOfMemory(AppError):
    """The device ran out of memory for this one request; others go on."""

    status_code = 503
    headers = {"Retry-After": "5"}


class ClientGone(AppError):
    """The client closed the connection (or the deadline passed), so the work was stopped.

    Nobody reads the answer; 499 is the status nginx logs for it."""

    status_code = 499
