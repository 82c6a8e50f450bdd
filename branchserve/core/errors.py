"""Errors the API and the actions raise: a machine-readable code and a human message."""

from __future__ import annotations

from typing import Any


class ActionError(Exception):
    """A request that cannot be carried out; nothing was changed.

    ``code`` is stable and machine-readable (``ticket_not_called``); ``message`` is shown to
    people (translated).
    """

    status = 400

    def __init__(self, code: str, message: Any, *, status: int | None = None, **detail: Any):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.detail = detail
        if status is not None:
            self.status = status


class Conflict(ActionError):
    status = 409
