"""The registry's HTTP API for training code, on urllib alone."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Union

from . import __version__
from .errors import (
    ApiError,
    Conflict,
    DeploymentFailed,
    EvaluationFailed,
    MrwError,
    PromotionRefused,
    TransportError,
    WaitTimeout,
    parse_problem,
)
from .models import ModelVersion, TransitionRequest
from .multipart import MultipartEncoder

log = logging.getLogger("mrw_client")

PathOrUri = Union[str, "os.PathLike[str]"]

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_PENDING = ("evaluating", "awaiting-approval", "deploying")
_STAGES = ("None", "Staging", "Production", "Archived")
# Answers that mean "not now" from a proxy or a restarting registry: a wait keeps polling.
_TRANSIENT = (502, 503, 504)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would resend the bearer token to wherever a redirect points; the registry never
    # redirects its API, so a redirect is an error to show, not a hop to take.
    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None


def _idempotency_key(base: str, step: str) -> str:
    # Each route scopes its keys, but one key per step keeps a replayed run's steps apart and
    # readable; the registry takes 1-200 characters of [A-Za-z0-9._:-].
    key = f"{base}.{step}"
    return key if len(key) <= 200 else "sha256." + hashlib.sha256(key.encode("utf-8")).hexdigest()


def _numbers(metrics: Optional[Mapping[str, Any]]) -> Dict[str, float]:
    out: Dict[str, float] = {}
    for k, v in (metrics or {}).items():
        # float() also takes numpy scalars, which json cannot encode.
        number = float(v)
        if not math.isfinite(number):
            raise ValueError(f"metric {k} is {number}: metrics must be finite numbers")
        out[str(k)] = number
    return out


class Client:
    """A registry client. ``url`` and ``token`` default to ``MRW_URL`` and ``MRW_TOKEN``.

    ``url`` is where the suite answers (``http://registry:8080``); a trailing ``/api/v1`` is
    accepted too. Every method raises a subclass of :class:`MrwError`.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        *,
        request_timeout: float = 60.0,
        poll_interval: float = 0.5,
        max_poll_interval: float = 5.0,
    ) -> None:
        url = url or os.environ.get("MRW_URL")
        if not url:
            raise MrwError("no registry URL: pass Client(url=...) or set MRW_URL")
        base = url.rstrip("/")
        if base.endswith("/api/v1"):
            base = base[: -len("/api/v1")]
        self.url = base
        self.token = token if token is not None else os.environ.get("MRW_TOKEN")
        self.request_timeout = request_timeout
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self._opener = urllib.request.build_opener(_NoRedirects)

    def __repr__(self) -> str:
        return f"Client(url={self.url!r})"

    # ---- HTTP ---------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: Union[bytes, Iterable[bytes], None] = None,
        headers: Optional[Mapping[str, str]] = None,
        query: Optional[Mapping[str, Any]] = None,
    ) -> Any:
        url = f"{self.url}/api/v1{path}"
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        all_headers = {"Accept": "application/json", "User-Agent": f"mrw-client-python/{__version__}", **(headers or {})}
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        if json_body is not None:
            data = json.dumps(json_body, allow_nan=False).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=all_headers, method=method)
        try:
            with self._opener.open(request, timeout=self.request_timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as e:
            with e:
                raise parse_problem(e.code, e.read(), e.headers.get("Content-Type")) from None
        except urllib.error.URLError as e:
            raise TransportError(f"cannot reach the registry at {self.url}: {e.reason}") from e
        except OSError as e:  # timeouts and resets after the connection was made
            raise TransportError(f"{method} {url}: {e}") from e
        if not body:
            return None
        try:
            return json.loads(body)
        except ValueError as e:
            raise TransportError(f"{method} {url}: the answer is not JSON: {body[:200]!r}") from e

    def _object(self, method: str, path: str, **kwargs: Any) -> Dict[str, Any]:
        answer = self._request(method, path, **kwargs)
        if not isinstance(answer, dict):
            raise TransportError(f"{method} {path}: expected a JSON object, got {type(answer).__name__}")
        return answer

    @staticmethod
    def _seg(value: Union[str, int]) -> str:
        return urllib.parse.quote(str(value), safe="")

    # ---- models -------------------------------------------------------------------------

    def create_model(
        self,
        name: str,
        description: Optional[str] = None,
        tags: Optional[Mapping[str, str]] = None,
        *,
        exist_ok: bool = False,
    ) -> Dict[str, Any]:
        """Creates a model (contributor). With ``exist_ok`` an existing model is returned as it is."""
        body: Dict[str, Any] = {"name": name}
        if description is not None:
            body["description"] = description
        if tags:
            body["tags"] = {str(k): str(v) for k, v in tags.items()}
        try:
            return self._object("POST", "/models", json_body=body)
        except Conflict as e:
            if exist_ok and e.code == "MODEL_ALREADY_EXISTS":
                return self.model(name)
            raise

    def model(self, name: str) -> Dict[str, Any]:
        """A model: description, tags, policy, aliases, ``latestVersion``, ``servingVersion``."""
        return self._object("GET", f"/models/{self._seg(name)}")

    def set_policy(self, model: str, policy: Mapping[str, Any]) -> Dict[str, Any]:
        """Replaces the model's policy (admin): evaluation set and thresholds, approval, deployment, archival."""
        return self._object("PUT", f"/models/{self._seg(model)}/policy", json_body=dict(policy))

    # ---- artifacts and versions ---------------------------------------------------------

    def upload_artifact(self, path: PathOrUri, progress: Optional[Callable[[int, int], None]] = None) -> Dict[str, Any]:
        """Uploads a file to the registry's content-addressed store: ``{"uri", "digest", "size"}``.

        The sha256 of the bytes sent is compared with the digest the registry stored; a
        difference raises :class:`MrwError` (the file changed, or was damaged on the way).
        """
        form = MultipartEncoder().add_file("file", path)
        headers = {"Content-Type": form.content_type, "Content-Length": str(form.content_length)}
        try:
            stored = self._object("POST", "/artifacts", data=form.iter_chunks(progress), headers=headers)
        except RuntimeError as e:  # the file changed while it was read
            raise MrwError(str(e)) from e
        sent = form.digest("file")
        if stored.get("digest") != sent:
            raise MrwError(f"the registry stored {stored.get('digest')} but {os.fspath(path)} was sent as {sent}")
        return stored

    def register_version(
        self,
        model: str,
        path_or_uri: PathOrUri,
        metrics: Optional[Mapping[str, Any]] = None,
        tags: Optional[Mapping[str, Any]] = None,
        run_id: Optional[str] = None,
        idempotency_key: Optional[str] = None,
        wait_for: Optional[str] = None,
        timeout: float = 600,
        *,
        description: Optional[str] = None,
        digest: Optional[str] = None,
        progress: Optional[Callable[[int, int], None]] = None,
    ) -> ModelVersion:
        """Registers a new version of ``model`` and returns it.

        ``path_or_uri``: a local file (uploaded, its sha256 checked against what the registry
        stored) or a source URI (``artifacts://…``, ``https://…``; ``digest`` pins its bytes).
        ``wait_for="Staging"`` then requests Staging and waits for the evaluation to finish
        (:class:`EvaluationFailed` if it could not run); ``"Production"`` goes on to request
        Production and waits for approval and deployment. With ``idempotency_key`` a re-run of
        the same training job registers nothing new and requests nothing twice.
        """
        if wait_for not in (None, "Staging", "Production"):
            raise ValueError('wait_for is None, "Staging" or "Production"')
        deadline = time.monotonic() + timeout
        if isinstance(path_or_uri, str) and _URI.match(path_or_uri):
            source, artifact_digest = path_or_uri, digest
        else:
            stored = self.upload_artifact(path_or_uri, progress)
            source, artifact_digest = stored["uri"], stored["digest"]
        body: Dict[str, Any] = {"source": source}
        if artifact_digest:
            body["artifactDigest"] = artifact_digest
        if metrics:
            body["metrics"] = _numbers(metrics)
        if tags:
            body["tags"] = {str(k): str(v) for k, v in tags.items()}
        if run_id is not None:
            body["runId"] = str(run_id)
        if description is not None:
            body["description"] = description
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        registered = ModelVersion.from_json(self._object("POST", f"/models/{self._seg(model)}/versions", json_body=body, headers=headers))
        log.info("registered %s v%d (%s)", model, registered.version, registered.digest)
        if wait_for is None:
            return registered
        state = registered
        for stage in ("Staging", "Production")[: 1 if wait_for == "Staging" else 2]:
            remaining = max(0.0, deadline - time.monotonic())
            request = self.promote(
                model,
                registered.version,
                stage,
                idempotency_key=_idempotency_key(idempotency_key, f"to-{stage.lower()}") if idempotency_key else None,
            )
            state = self.wait(model, registered.version, request_id=request.id, timeout=remaining)
        return state

    def version(self, model: str, version: Union[int, str]) -> ModelVersion:
        """A version's state: stage, digest, metrics, evaluations, approvals, deployments, requests."""
        return ModelVersion.from_json(self._object("GET", f"/models/{self._seg(model)}/versions/{self._seg(version)}"))

    # ---- lifecycle ----------------------------------------------------------------------

    def promote(
        self,
        model: str,
        version: int,
        to: str,
        comment: Optional[str] = None,
        wait: bool = False,
        timeout: float = 600,
        *,
        idempotency_key: Optional[str] = None,
    ) -> TransitionRequest:
        """Requests stage ``to`` for the version and returns the request.

        The automated gates decide at once: a refusal raises :class:`PromotionRefused` with the
        failing checks, waiting or not. Without ``wait`` the request is returned as it stands
        (``evaluating``, ``awaiting-approval``, ``deploying``, ``completed``). With ``wait`` it is
        followed until it settles and returned ``completed``, or :class:`EvaluationFailed`,
        :class:`DeploymentFailed`, :class:`PromotionRefused` (a reviewer rejected it, the approval
        expired) or :class:`WaitTimeout` is raised.
        """
        if to not in _STAGES:
            raise ValueError(f"to is one of {', '.join(_STAGES)}")
        body: Dict[str, Any] = {"toStage": to}
        if comment is not None:
            body["comment"] = comment
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        answer = self._object("POST", f"/models/{self._seg(model)}/versions/{self._seg(version)}/transitions", json_body=body, headers=headers)
        raw_request = answer.get("request")
        if not raw_request:
            raise MrwError(f"the registry accepted the transition of {model} v{version} but returned no request")
        request = TransitionRequest.from_json(raw_request)
        log.info("%s v%s → %s: %s", model, version, to, request.status)
        if request.status == "refused":
            raise PromotionRefused(model, int(version), to, request.status, request.checks, request.raw)
        if not wait:
            return request
        state = self.wait(model, int(version), request_id=request.id, timeout=timeout)
        settled = state.request(request.id)
        assert settled is not None  # wait() found it, or it would have raised
        return settled

    def wait(
        self,
        model: str,
        version: int,
        until: Optional[str] = None,
        timeout: float = 600,
        *,
        request_id: Optional[str] = None,
    ) -> ModelVersion:
        """Follows a transition request until it settles; returns the version's state then.

        The request followed is ``request_id``, else the latest request for stage ``until``,
        else the latest request. It moves through ``evaluating`` → ``awaiting-approval`` →
        ``deploying`` → ``completed``; a refusal by the gates, a rejected or expired approval
        raise :class:`PromotionRefused`, a failed evaluation :class:`EvaluationFailed`, a failed
        deployment :class:`DeploymentFailed`, and a request still moving after ``timeout``
        seconds :class:`WaitTimeout`.
        """
        if until is not None and until not in _STAGES:
            raise ValueError(f"until is one of {', '.join(_STAGES)}")
        deadline = time.monotonic() + timeout
        delay = self.poll_interval
        seen: Optional[TransitionRequest] = None
        while True:
            try:
                state: Optional[ModelVersion] = self.version(model, version)
            except TransportError:
                state = None
            except ApiError as e:
                if e.status not in _TRANSIENT:
                    raise
                state = None
            if state is not None:
                request = self._followed(state, until, request_id)
                if seen is None or request.status != seen.status:
                    log.info("%s v%s → %s: %s", model, version, request.to_stage, request.status)
                seen = request
                if request.settled:
                    return self._outcome(state, request)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeout(model, int(version), seen.status if seen else None, timeout, seen.raw if seen else None)
            time.sleep(min(delay, remaining))
            delay = min(delay * 1.5, self.max_poll_interval)

    @staticmethod
    def _followed(state: ModelVersion, until: Optional[str], request_id: Optional[str]) -> TransitionRequest:
        if request_id is not None:
            found = state.request(request_id)
            if found is None:
                raise MrwError(f"{state.model} v{state.version} has no request {request_id}")
            return found
        candidates = [r for r in state.requests if until is None or r.to_stage == until]
        if not candidates:
            raise MrwError(f"{state.model} v{state.version} has no request" + (f" for {until}" if until else "") + " to wait for")
        return candidates[-1]

    @staticmethod
    def _outcome(state: ModelVersion, request: TransitionRequest) -> ModelVersion:
        if request.status == "completed":
            evaluation = next((e for e in state.evaluations if e.get("id") == request.evaluation_id), None) if request.evaluation_id else None
            if evaluation is not None and evaluation.get("status") == "failed":
                raise EvaluationFailed(state.model, state.version, str(evaluation.get("reason") or "no reason given"), evaluation.get("code"), evaluation)
            return state
        if request.status in ("refused", "rejected", "expired"):
            raise PromotionRefused(state.model, state.version, request.to_stage, request.status, request.checks, request.raw)
        if request.status == "failed":
            deployment = next((d for d in state.deployments if d.get("id") == request.deployment_id), {})
            raise DeploymentFailed(state.model, state.version, str(deployment.get("reason") or "no reason given"), deployment)
        raise MrwError(f"{state.model} v{state.version}: request {request.id} ended as {request.status!r}, which this client does not know; upgrade mrw-client")

    # ---- audit --------------------------------------------------------------------------

    def audit(self, model: str, version: int, *, verify: bool = False) -> Dict[str, Any]:
        """The version's stream: every event with its actor, time and hash. With ``verify``,
        the hash chain's verdict instead (``{"valid": true, "events": n, "head": …}``)."""
        path = f"/models/{self._seg(model)}/versions/{self._seg(version)}/audit"
        return self._object("GET", path + ("/verify" if verify else ""))
