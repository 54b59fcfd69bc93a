"""Helpers the tests share (conftest.py holds the fixtures)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

Answer = Tuple[int, Dict[str, str], bytes]


def json_answer(status: int, body: Any, content_type: str = "application/json") -> Answer:
    return status, {"Content-Type": content_type}, json.dumps(body).encode("utf-8")


def evaluation_policy(eval_set: str, **extra: Any) -> Dict[str, Any]:
    """The policy the registry tests use: the breast-cancer holdout, accuracy at least 0.9."""
    return {"evaluation": {"set": eval_set, "thresholds": {"accuracy": {"threshold": 0.9}}}, **extra}


def approvals(required: int) -> Dict[str, Any]:
    return {"Production": {"required": required, "reviewers": ["role:reviewer"], "expiresIn": "P1D"}}


def sha256_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def first_rows(fixtures: Path, n: int) -> List[List[float]]:
    lines = (fixtures / "breast-cancer-holdout.csv").read_text().strip().splitlines()[1 : n + 1]
    return [[float(x) for x in line.split(",")[:30]] for line in lines]

