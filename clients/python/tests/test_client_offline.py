"""The client against a stub server: what it sends, and how it reads answers the real registry
rarely gives on demand (a damaged upload, a failed deployment, a registry restarting mid-wait)."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path
from typing import Any, Dict, List

import pytest

from mrw_client import (
    ApiError,
    Client,
    Conflict,
    DeploymentFailed,
    EvaluationFailed,
    MrwError,
    PromotionRefused,
    TransportError,
    WaitTimeout,
)
from support import json_answer


def version_state(requests: List[Dict[str, Any]], evaluations: List[Dict[str, Any]] = (), deployments: List[Dict[str, Any]] = ()) -> Dict[str, Any]:  # type: ignore[assignment]
    return {
        "model": "churn",
        "version": 3,
        "stage": "Staging",
        "serving": False,
        "source": "artifacts://sha256/" + "0" * 64,
        "digest": "sha256:" + "0" * 64,
        "runId": None,
        "metrics": {},
        "tags": {},
        "evaluations": list(evaluations),
        "deployments": list(deployments),
        "requests": requests,
    }


def request(status: str, to: str = "Production", **extra: Any) -> Dict[str, Any]:
    return {"id": "r1", "fromStage": "Staging", "toStage": to, "status": status, "evaluationId": None, "approvalId": None, "deploymentId": None, **extra}


def test_url_and_token_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, stub) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MRW_URL", stub.url + "/api/v1/")
    monkeypatch.setenv("MRW_TOKEN", "secret-token")
    stub.handler = lambda *_: json_answer(200, {"name": "churn"})
    assert Client().model("churn") == {"name": "churn"}
    (sent,) = stub.requests
    assert sent["path"] == "/api/v1/models/churn"
    assert sent["headers"]["authorization"] == "Bearer secret-token"


def test_no_url_anywhere_is_an_error_that_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MRW_URL", raising=False)
    with pytest.raises(MrwError, match="MRW_URL"):
        Client()


def test_a_local_file_is_uploaded_as_multipart_and_registered_by_its_uri(tmp_path: Path, stub) -> None:  # type: ignore[no-untyped-def]
    model = tmp_path / "model.onnx"
    model.write_bytes(b"onnx bytes")
    digest = "sha256:" + hashlib.sha256(b"onnx bytes").hexdigest()

    def handler(method: str, path: str, headers: Dict[str, str], body: bytes):  # type: ignore[no-untyped-def]
        if path == "/api/v1/artifacts":
            assert headers["content-type"].startswith("multipart/form-data; boundary=")
            assert b'name="file"; filename="model.onnx"' in body and b"onnx bytes" in body
            return json_answer(201, {"uri": "artifacts://sha256/" + digest[7:], "digest": digest, "size": 10})
        return json_answer(201, version_state([]) | {"version": 1, "stage": "None"})

    stub.handler = handler
    version = Client(stub.url, "t").register_version("churn", model, metrics={"auc": 0.91, "n": 3}, tags={"epochs": 5}, run_id="run-7", idempotency_key="train-7")
    assert version.version == 1
    registered = stub.requests[1]
    assert registered["path"] == "/api/v1/models/churn/versions"
    assert registered["headers"]["idempotency-key"] == "train-7"
    assert json.loads(registered["body"]) == {
        "source": "artifacts://sha256/" + digest[7:],
        "artifactDigest": digest,
        "metrics": {"auc": 0.91, "n": 3.0},
        "tags": {"epochs": "5"},
        "runId": "run-7",
    }


def test_an_upload_the_registry_stored_with_another_digest_is_an_error(tmp_path: Path, stub) -> None:  # type: ignore[no-untyped-def]
    model = tmp_path / "model.onnx"
    model.write_bytes(b"onnx bytes")
    stub.handler = lambda *_: json_answer(201, {"uri": "artifacts://sha256/" + "1" * 64, "digest": "sha256:" + "1" * 64, "size": 10})
    with pytest.raises(MrwError, match="stored sha256:1111"):
        Client(stub.url, "t").register_version("churn", model)
    assert len(stub.requests) == 1  # nothing registered


def test_non_finite_metrics_are_refused_before_anything_is_sent(stub) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="finite"):
        Client(stub.url, "t").register_version("churn", "artifacts://sha256/" + "0" * 64, metrics={"loss": float("nan")})
    assert stub.requests == []


def test_a_problem_answer_raises_its_typed_error(stub) -> None:  # type: ignore[no-untyped-def]
    stub.handler = lambda *_: json_answer(409, {"type": "/problems/model-already-exists", "title": "Model already exists", "status": 409, "code": "MODEL_ALREADY_EXISTS", "detail": "model churn already exists"}, "application/problem+json")
    with pytest.raises(Conflict) as raised:
        Client(stub.url, "t").create_model("churn")
    assert raised.value.code == "MODEL_ALREADY_EXISTS"


def test_a_redirect_is_not_followed_with_the_token(stub) -> None:  # type: ignore[no-untyped-def]
    stub.handler = lambda *_: (302, {"Location": "http://127.0.0.1:9/steal"}, b"")
    with pytest.raises(ApiError) as raised:
        Client(stub.url, "t").model("churn")
    assert raised.value.status == 302
    assert len(stub.requests) == 1


def test_an_unreachable_registry_is_a_transport_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nobody listens there
    with pytest.raises(TransportError, match="cannot reach"):
        Client(f"http://127.0.0.1:{port}", "t").model("churn")


def test_a_refusal_by_the_gates_raises_at_once_with_the_checks(stub) -> None:  # type: ignore[no-untyped-def]
    check = {"metric": "accuracy", "rule": "threshold", "passed": False, "value": 0.8, "expected": 0.9, "detail": "accuracy 0.8 < 0.9"}
    stub.handler = lambda *_: json_answer(202, {"model": "churn", "version": 3, "stage": "Staging", "request": request("refused", checks=[check])})
    with pytest.raises(PromotionRefused) as raised:
        Client(stub.url, "t").promote("churn", 3, "Production")
    assert raised.value.status == "refused"
    assert raised.value.failing_checks == [check]
    assert raised.value.reasons == ["accuracy 0.8 < 0.9"]


def wait_through(stub, states: List[Any]) -> Client:  # type: ignore[no-untyped-def]
    """A stub whose version answers go through ``states`` (the last one repeats)."""
    answers = list(states)

    def handler(*_: Any):  # type: ignore[no-untyped-def]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer if isinstance(answer, tuple) else json_answer(200, answer)

    stub.handler = handler
    return Client(stub.url, "t", poll_interval=0.01, max_poll_interval=0.02)


def test_wait_follows_the_request_through_a_registry_restart_to_completed(stub) -> None:  # type: ignore[no-untyped-def]
    client = wait_through(
        stub,
        [
            version_state([request("awaiting-approval")]),
            (503, {"Content-Type": "application/problem+json"}, b'{"code":"SERVICE_UNAVAILABLE","detail":"retry shortly","status":503}'),
            version_state([request("deploying", deploymentId="d1")]),
            version_state([request("completed", deploymentId="d1")], deployments=[{"id": "d1", "status": "succeeded", "endpoint": "http://serve"}]),
        ],
    )
    state = client.wait("churn", 3, until="Production", timeout=10)
    assert state.request("r1").status == "completed"  # type: ignore[union-attr]
    assert state.endpoint == "http://serve"
    assert len(stub.requests) == 4


def test_a_failed_deployment_raises_with_its_reason(stub) -> None:  # type: ignore[no-untyped-def]
    client = wait_through(stub, [version_state([request("failed", deploymentId="d1")], deployments=[{"id": "d1", "status": "failed", "reason": "image pull backoff"}])])
    with pytest.raises(DeploymentFailed, match="image pull backoff") as raised:
        client.wait("churn", 3, request_id="r1", timeout=5)
    assert raised.value.deployment["id"] == "d1"


def test_a_completed_staging_request_whose_evaluation_failed_raises_evaluation_failed(stub) -> None:  # type: ignore[no-untyped-def]
    client = wait_through(
        stub,
        [
            version_state([request("evaluating", to="Staging", evaluationId="e1")], evaluations=[{"id": "e1", "status": "running"}]),
            version_state([request("completed", to="Staging", evaluationId="e1")], evaluations=[{"id": "e1", "status": "failed", "code": "INPUT_MISMATCH", "reason": "expects 10 features, the set has 30"}]),
        ],
    )
    with pytest.raises(EvaluationFailed) as raised:
        client.wait("churn", 3, until="Staging", timeout=5)
    assert (raised.value.code, raised.value.reason) == ("INPUT_MISMATCH", "expects 10 features, the set has 30")


@pytest.mark.parametrize("status", ["rejected", "expired"])
def test_an_approval_that_is_not_granted_is_a_refused_promotion(stub, status: str) -> None:  # type: ignore[no-untyped-def]
    client = wait_through(stub, [version_state([request(status)])])
    with pytest.raises(PromotionRefused) as raised:
        client.wait("churn", 3, timeout=5)
    assert raised.value.status == status


def test_a_request_still_moving_at_the_deadline_times_out_with_where_it_stood(stub) -> None:  # type: ignore[no-untyped-def]
    client = wait_through(stub, [version_state([request("deploying")])])
    with pytest.raises(WaitTimeout) as raised:
        client.wait("churn", 3, timeout=0.2)
    assert raised.value.status == "deploying"
    assert len(stub.requests) >= 2  # it polled, then gave up


def test_a_status_this_client_does_not_know_is_not_taken_for_success(stub) -> None:  # type: ignore[no-untyped-def]
    client = wait_through(stub, [version_state([request("superseded")])])
    with pytest.raises(MrwError, match="superseded"):
        client.wait("churn", 3, timeout=5)
