"""Python client for the model registry workflows suite (``mrw``): register model versions
from training code, promote them, and wait for evaluation, approval and deployment."""

__version__ = "0.1.0"

from .client import Client  # noqa: E402
from .errors import (  # noqa: E402
    ApiError,
    Conflict,
    DeploymentFailed,
    EvaluationFailed,
    Forbidden,
    MrwError,
    NotFound,
    PromotionRefused,
    TransportError,
    Unauthorized,
    WaitTimeout,
    parse_problem,
)
from .models import ModelVersion, TransitionRequest  # noqa: E402
from .multipart import MultipartEncoder  # noqa: E402

__all__ = [
    "ApiError",
    "Client",
    "Conflict",
    "DeploymentFailed",
    "EvaluationFailed",
    "Forbidden",
    "ModelVersion",
    "MrwError",
    "MultipartEncoder",
    "NotFound",
    "PromotionRefused",
    "TransitionRequest",
    "TransportError",
    "Unauthorized",
    "WaitTimeout",
    "parse_problem",
    "__version__",
]
