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


class BadRequest(AppError):
    status_code = 422


class NotFound(AppError):
    status_code = 404


class ModelUnavailable(AppError):
    status_code = 503


class Busy(AppError):
    status_code = 503
    headers = {"Retry-After": "2"}


class DeadlineExceeded(AppError):
    status_code = 504
