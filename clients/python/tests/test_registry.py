"""The client against a real registry with the evaluator and the deployer (embedded mode), as
training code uses it: real ONNX models, the real breast-cancer holdout, the local runtime.

Run by ``tools/e2e/python-client.e2e.spec.ts``; see conftest.py for the environment.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from mrw_client import (
    Client,
    Conflict,
    EvaluationFailed,
    NotFound,
    PromotionRefused,
    Unauthorized,
    WaitTimeout,
)
from support import approvals, evaluation_policy, first_rows, sha256_of

pytestmark = pytest.mark.registry


def test_registers_a_local_onnx_file_with_metrics_under_its_verified_digest(client: Client, model_name: str, fixtures: Path) -> None:
    client.create_model(model_name, description="from pytest", tags={"team": "ml"})
    model = fixtures / "breast-cancer-logreg.onnx"

    version = client.register_version(model_name, model, metrics={"val_accuracy": 0.97, "epochs": 12}, tags={"framework": "sklearn"}, run_id="run-1")

    assert version.version == 1
    assert version.stage == "None"
    assert version.digest == sha256_of(model)
    assert version.source == "artifacts://sha256/" + sha256_of(model)[len("sha256:") :]
    assert version.metrics == {"val_accuracy": 0.97, "epochs": 12}
    assert version.tags == {"framework": "sklearn"}
    assert version.run_id == "run-1"
    assert client.version(model_name, 1) == version


def test_wait_for_staging_returns_once_the_evaluation_completed_and_a_rerun_registers_nothing_new(
    client: Client, model_name: str, fixtures: Path, eval_set: str
) -> None:
    client.create_model(model_name)
    client.set_policy(model_name, evaluation_policy(eval_set))
    model = fixtures / "breast-cancer-logreg.onnx"

    staged = client.register_version(model_name, model, metrics={"val_accuracy": 0.97}, idempotency_key="run-42", wait_for="Staging", timeout=120)

    assert staged.stage == "Staging"
    evaluation = staged.evaluation
    assert evaluation is not None
    assert evaluation["status"] == "completed"
    assert evaluation["set"]["name"] == eval_set
    assert evaluation["metrics"]["accuracy"] > 0.9
    assert evaluation["verdict"]["passed"] is True

    # The training job is retried with the same key: the same version, the same request, no second evaluation.
    again = client.register_version(model_name, model, metrics={"val_accuracy": 0.97}, idempotency_key="run-42", wait_for="Staging", timeout=120)
    assert again.version == staged.version
    assert len(again.evaluations) == 1
    assert [r.to_stage for r in again.requests] == ["Staging"]
    assert client.model(model_name)["latestVersion"] == 1


def test_promote_to_production_with_wait_completes_and_the_version_serves_on_the_local_runtime(
    client: Client, model_name: str, fixtures: Path, eval_set: str
) -> None:
    client.create_model(model_name)
    client.set_policy(
        model_name,
        evaluation_policy(eval_set, approval=approvals(0), deployment={"targets": [{"kind": "local", "environment": "production"}]}),
    )
    staged = client.register_version(model_name, fixtures / "breast-cancer-logreg.onnx", wait_for="Staging", timeout=120)

    request = client.promote(model_name, staged.version, "Production", comment="beats nothing: first champion", wait=True, timeout=120)

    assert request.status == "completed"
    version = client.version(model_name, staged.version)
    assert (version.stage, version.serving) == ("Production", True)
    assert client.model(model_name)["servingVersion"] == staged.version
    assert version.endpoint is not None
    rows = first_rows(fixtures, 4)
    with urllib.request.urlopen(f"{version.endpoint}/v2/models/{model_name}", timeout=30) as answer:
        input_name = json.load(answer)["inputs"][0]["name"]
    infer = urllib.request.Request(
        f"{version.endpoint}/v2/models/{model_name}/infer",
        data=json.dumps({"inputs": [{"name": input_name, "shape": [4, 30], "datatype": "FP32", "data": [x for row in rows for x in row]}]}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(infer, timeout=30) as answer:
        served = json.load(answer)
    assert served["model_version"] == str(staged.version)
    assert len(next(o for o in served["outputs"] if o["name"] == "label")["data"]) == 4

    audit = client.audit(model_name, staged.version)
    types = [e["type"] for e in audit["events"]]
    assert types.index("EvaluationCompleted") < types.index("DeploymentRequested") < types.index("DeploymentSucceeded")
    assert client.audit(model_name, staged.version, verify=True)["valid"] is True


def test_a_version_the_gates_refuse_raises_promotion_refused_with_the_failing_checks(
    client: Client, model_name: str, fixtures: Path, eval_set: str
) -> None:
    client.create_model(model_name)
    client.set_policy(model_name, evaluation_policy(eval_set, approval=approvals(0)))

    with pytest.raises(PromotionRefused) as raised:
        client.register_version(model_name, fixtures / "breast-cancer-worse.onnx", wait_for="Production", timeout=120)

    refused = raised.value
    assert refused.status == "refused"
    assert refused.to_stage == "Production"
    failing = refused.failing_checks
    assert any(c["metric"] == "accuracy" and c["rule"] == "threshold" and c["expected"] == 0.9 for c in failing), failing
    assert refused.reasons
    version = client.version(model_name, refused.version)
    assert (version.stage, version.serving) == ("Staging", False)


def test_a_model_the_evaluator_cannot_read_raises_evaluation_failed(client: Client, model_name: str, tmp_path: Path, eval_set: str) -> None:
    client.create_model(model_name)
    client.set_policy(model_name, evaluation_policy(eval_set))
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx model at all")

    with pytest.raises(EvaluationFailed) as raised:
        client.register_version(model_name, broken, wait_for="Staging", timeout=120)

    assert raised.value.code == "MODEL_UNREADABLE"
    assert raised.value.reason


def test_a_request_awaiting_a_reviewer_past_the_timeout_raises_wait_timeout(client: Client, model_name: str, fixtures: Path, eval_set: str) -> None:
    client.create_model(model_name)
    client.set_policy(model_name, evaluation_policy(eval_set, approval=approvals(1)))
    staged = client.register_version(model_name, fixtures / "breast-cancer-logreg.onnx", wait_for="Staging", timeout=120)

    with pytest.raises(WaitTimeout) as raised:
        client.promote(model_name, staged.version, "Production", wait=True, timeout=1.5)

    assert raised.value.status == "awaiting-approval"
    # Nobody decided, so the request is still open: waiting again without a deadline to spare times out the same way.
    with pytest.raises(WaitTimeout):
        client.wait(model_name, staged.version, until="Production", timeout=0)


def test_a_bad_token_raises_unauthorized(registry_url: str, model_name: str) -> None:
    with pytest.raises(Unauthorized) as raised:
        Client(registry_url, "mrw_not-a-token-the-registry-issued").create_model(model_name)
    assert raised.value.code == "UNAUTHENTICATED"
    assert raised.value.status == 401


def test_missing_things_and_conflicts_are_typed(client: Client, model_name: str) -> None:
    with pytest.raises(NotFound) as missing:
        client.version(model_name, 1)
    assert missing.value.code == "MODEL_NOT_FOUND"
    created = client.create_model(model_name)
    with pytest.raises(Conflict) as conflict:
        client.create_model(model_name)
    assert conflict.value.code == "MODEL_ALREADY_EXISTS"
    assert client.create_model(model_name, exist_ok=True)["name"] == created["name"]
