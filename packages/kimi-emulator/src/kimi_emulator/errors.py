"""Error envelopes with the reference's types and wording (kimi-api.md 11)."""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "error_body"]


def error_body(message: str, error_type: str | None, code: str | None = None) -> dict[str, Any]:
    """The JSON error envelope; ``code`` only when given (the live service sends none)."""
    error: dict[str, Any] = {"message": message}
    if error_type is not None:
        error["type"] = error_type
    if code is not None:
        error["code"] = code
    return {"error": error}


class ApiError(Exception):
    """A request the server answers with an HTTP error status and a JSON error envelope."""

    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The wire body of this error."""
        return error_body(self.message, self.error_type)

    @classmethod
    def invalid(cls, message: str) -> ApiError:
        """A 400 ``invalid_request_error``."""
        return cls(400, "invalid_request_error", message)

    @classmethod
    def not_found(cls, message: str) -> ApiError:
        """A 404 ``resource_not_found_error``."""
        return cls(404, "resource_not_found_error", message)

    @classmethod
    def model_not_found(cls, model_id: str) -> ApiError:
        """Unknown or retired model, with the live wording."""
        return cls.not_found(f"Not found the model {model_id} or Permission denied")
