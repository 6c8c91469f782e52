"""The refusal a tus answer carries: its status, its message and headers."""

from __future__ import annotations


class TusError(Exception):
    def __init__(self, status: int, message: str, **headers: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers
