"""Problem documents (RFC 9457 with the registry's `code`) become typed errors."""

from __future__ import annotations

import json

import pytest

from mrw_client import ApiError, Conflict, Forbidden, NotFound, Unauthorized, parse_problem


def problem(status: int, code: str, detail: str, **extra: object) -> bytes:
    return json.dumps({"type": f"/problems/{code.lower()}", "title": code.title(), "status": status, "code": code, "detail": detail, **extra}).encode()


def test_a_validation_problem_keeps_code_detail_and_field_errors() -> None:
    body = problem(
        400,
        "VALIDATION_FAILED",
        "the request is invalid: toStage: toStage must be one of None, Staging, Production, Archived",
        errors=[{"field": "toStage", "message": "toStage must be one of None, Staging, Production, Archived"}],
    )
    error = parse_problem(400, body, "application/problem+json")
    assert type(error) is ApiError
    assert (error.status, error.code) == (400, "VALIDATION_FAILED")
    assert error.detail.startswith("the request is invalid")
    assert error.errors == [{"field": "toStage", "message": "toStage must be one of None, Staging, Production, Archived"}]
    assert error.problem["type"] == "/problems/validation_failed"
    assert "400 VALIDATION_FAILED" in str(error)


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (401, "UNAUTHENTICATED", Unauthorized),
        (403, "MODEL_OUT_OF_SCOPE", Forbidden),
        (404, "VERSION_NOT_FOUND", NotFound),
        (409, "ALREADY_IN_STAGE", Conflict),
        (422, "IDEMPOTENCY_KEY_REUSED", ApiError),
    ],
)
def test_the_status_picks_the_class(status: int, code: str, cls: type) -> None:
    error = parse_problem(status, problem(status, code, "why"))
    assert type(error) is cls
    assert isinstance(error, ApiError)
    assert error.code == code


def test_extensions_stay_readable() -> None:
    error = parse_problem(409, problem(409, "APPROVAL_PENDING", "approval a1 is pending", approvalId="a1"))
    assert error.problem["approvalId"] == "a1"


def test_an_answer_that_is_not_a_problem_keeps_its_status_and_text() -> None:
    error = parse_problem(502, b"<html><body><h1>502 Bad Gateway</h1>\n</body></html>", "text/html")
    assert (error.status, error.code) == (502, "HTTP_502")
    assert "502 Bad Gateway" in error.detail
    assert error.errors == []


def test_an_empty_answer_says_so() -> None:
    error = parse_problem(404, b"")
    assert isinstance(error, NotFound)
    assert error.code == "HTTP_404"
    assert "no body" in error.detail


def test_json_without_a_code_is_not_mistaken_for_a_problem() -> None:
    error = parse_problem(500, b'{"message": "Internal server error"}')
    assert error.code == "HTTP_500"
    assert "Internal server error" in error.detail


def test_malformed_field_errors_are_dropped_not_fatal() -> None:
    error = parse_problem(400, problem(400, "VALIDATION_FAILED", "bad", errors=["oops", {"field": "a", "message": "b"}]))
    assert error.errors == [{"field": "a", "message": "b"}]
