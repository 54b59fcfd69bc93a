"""What the registry answers, with the fields training code reads most as attributes.

Each object keeps the whole JSON answer in ``raw``: the API adds fields over time, and a
client that dropped what it does not know would hide them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional


@dataclass(frozen=True)
class TransitionRequest:
    """A request for a stage, and how far it got.

    ``status``: ``evaluating`` → ``completed`` for Staging; ``refused`` (gates), ``awaiting-approval``
    → ``deploying`` → ``completed`` | ``failed``, or ``rejected`` | ``expired`` for Production.
    """

    id: str
    from_stage: str
    to_stage: str
    status: str
    checks: List[Dict[str, Any]]
    evaluation_id: Optional[str]
    approval_id: Optional[str]
    deployment_id: Optional[str]
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "TransitionRequest":
        return cls(
            id=str(data.get("id")),
            from_stage=str(data.get("fromStage")),
            to_stage=str(data.get("toStage")),
            status=str(data.get("status")),
            checks=list(data.get("checks") or []),
            evaluation_id=data.get("evaluationId"),
            approval_id=data.get("approvalId"),
            deployment_id=data.get("deploymentId"),
            raw=dict(data),
        )

    @property
    def settled(self) -> bool:
        """Nothing more will happen to this request."""
        return self.status not in ("evaluating", "awaiting-approval", "deploying")


@dataclass(frozen=True)
class ModelVersion:
    """A version's state (``GET /models/{name}/versions/{version}``)."""

    model: str
    version: int
    stage: str
    serving: bool
    source: str
    digest: Optional[str]
    run_id: Optional[str]
    metrics: Dict[str, float]
    tags: Dict[str, str]
    evaluations: List[Dict[str, Any]]
    deployments: List[Dict[str, Any]]
    requests: List[TransitionRequest]
    raw: Dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ModelVersion":
        return cls(
            model=str(data.get("model")),
            version=int(data.get("version", 0)),
            stage=str(data.get("stage")),
            serving=bool(data.get("serving", False)),
            source=str(data.get("source")),
            digest=data.get("digest"),
            run_id=data.get("runId"),
            metrics=dict(data.get("metrics") or {}),
            tags=dict(data.get("tags") or {}),
            evaluations=list(data.get("evaluations") or []),
            deployments=list(data.get("deployments") or []),
            requests=[TransitionRequest.from_json(r) for r in data.get("requests") or []],
            raw=dict(data),
        )

    @property
    def evaluation(self) -> Optional[Dict[str, Any]]:
        """The latest evaluation (``status``, ``metrics``, ``verdict``, ``comparison``), if any."""
        return self.evaluations[-1] if self.evaluations else None

    @property
    def endpoint(self) -> Optional[str]:
        """Where the latest successful deployment serves it, if it reported one."""
        for d in reversed(self.deployments):
            if d.get("status") == "succeeded":
                return d.get("endpoint")
        return None

    def request(self, request_id: str) -> Optional[TransitionRequest]:
        return next((r for r in self.requests if r.id == request_id), None)
