"""Typed errors: catch the class you can act on, read the registry's reasons from its fields."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional


class MrwError(Exception):
    """Anything this client raises on purpose."""


class TransportError(MrwError):
    """The registry could not be reached, or answered something that is not HTTP we understand."""


class ApiError(MrwError):
    """An answer with an error status, parsed from the registry's problem document (RFC 9457).

    ``code`` is the registry's stable error code (``VALIDATION_FAILED``, ``ALREADY_IN_STAGE``,
    ...); ``errors`` lists field-level problems as ``{"field": ..., "message": ...}``.
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        errors: Optional[List[Dict[str, str]]] = None,
        problem: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self.status = status
        self.code = code
        self.detail = detail
        self.errors: List[Dict[str, str]] = list(errors or [])
        self.problem: Dict[str, Any] = dict(problem or {})
        fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in self.errors)
        super().__init__(f"{status} {code}: {detail}" + (f" ({fields})" if fields and fields not in detail else ""))


class Unauthorized(ApiError):
    """401: no token, or one the registry does not know (unknown or revoked)."""


class Forbidden(ApiError):
    """403: the token lacks the role, or is scoped to other models."""


class NotFound(ApiError):
    """404: no such model, version, set, ..."""


class Conflict(ApiError):
    """409: the lifecycle rules refuse it now (``ALREADY_IN_STAGE``, ``APPROVAL_PENDING``, ...)."""


_BY_STATUS = {401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict}


def parse_problem(status: int, body: bytes, content_type: Optional[str] = None) -> ApiError:
    """The typed error for an error answer: the problem document when there is one, else the status and the text."""
    cls = _BY_STATUS.get(status, ApiError)
    text = body.decode("utf-8", errors="replace")
    document: Any = None
    if text.strip():
        try:
            document = json.loads(text)
        except ValueError:
            document = None
    if isinstance(document, dict) and isinstance(document.get("code"), str):
        raw_errors = document.get("errors")
        errors = [
            {"field": str(e.get("field", "")), "message": str(e.get("message", ""))}
            for e in raw_errors
            if isinstance(e, dict)
        ] if isinstance(raw_errors, list) else []
        detail = document.get("detail")
        return cls(
            status,
            document["code"],
            detail if isinstance(detail, str) else str(document.get("title", "")),
            errors,
            document,
        )
    # Not ours (a proxy's HTML page, an empty 502): keep the start of the text so the cause shows.
    snippet = " ".join(text.split())[:300]
    return cls(status, f"HTTP_{status}", snippet or f"HTTP {status} with no body" + (f" ({content_type})" if content_type else ""))


class PromotionRefused(MrwError):
    """The version did not get the stage it asked for: the automated gates refused it (``status``
    ``refused``, with the failing ``checks``), or its approval was rejected or expired."""

    def __init__(self, model: str, version: int, to_stage: str, status: str, checks: List[Dict[str, Any]], request: Mapping[str, Any]) -> None:
        self.model = model
        self.version = version
        self.to_stage = to_stage
        self.status = status
        self.checks = list(checks)
        self.request = dict(request)
        failing = [c for c in self.checks if not c.get("passed", False)]
        self.reasons: List[str] = [str(c.get("detail", c.get("metric", ""))) for c in failing]
        why = "; ".join(self.reasons) if self.reasons else {"rejected": "a reviewer rejected it", "expired": "the approval expired"}.get(status, status)
        super().__init__(f"{model} v{version} → {to_stage} {status}: {why}")

    @property
    def failing_checks(self) -> List[Dict[str, Any]]:
        """The checks that did not pass."""
        return [c for c in self.checks if not c.get("passed", False)]


class EvaluationFailed(MrwError):
    """The evaluation on entering Staging could not run to the end (unreadable model, wrong inputs, ...)."""

    def __init__(self, model: str, version: int, reason: str, code: Optional[str], evaluation: Mapping[str, Any]) -> None:
        self.model = model
        self.version = version
        self.reason = reason
        self.code = code
        self.evaluation = dict(evaluation)
        super().__init__(f"{model} v{version}: evaluation failed" + (f" ({code})" if code else "") + f": {reason}")


class DeploymentFailed(MrwError):
    """The approved version's deployment failed; the champion keeps serving."""

    def __init__(self, model: str, version: int, reason: str, deployment: Mapping[str, Any]) -> None:
        self.model = model
        self.version = version
        self.reason = reason
        self.deployment = dict(deployment)
        super().__init__(f"{model} v{version}: deployment failed: {reason}")


class WaitTimeout(MrwError):
    """The request had not settled when the timeout ran out; ``status`` is where it stood."""

    def __init__(self, model: str, version: int, status: Optional[str], timeout: float, request: Optional[Mapping[str, Any]]) -> None:
        self.model = model
        self.version = version
        self.status = status
        self.timeout = timeout
        self.request = dict(request or {})
        super().__init__(f"{model} v{version}: still {status or 'not requested'} after {timeout:g}s")
