"""Fixtures: a stub HTTP server for the offline tests, and the real registry for the rest.

The registry tests need ``MRW_URL`` and ``MRW_TOKEN`` (an admin token: they set policies),
and ``MRW_FIXTURES`` (the repository's ``libs/evaluator/fixtures``) with the evaluation set
``MRW_EVAL_SET`` (default ``breast-cancer-holdout``) uploaded from it. Without them they are
skipped, with that reason; ``tools/e2e/python-client.e2e.spec.ts`` provides all of it.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

from support import Answer


class Stub:
    """A local HTTP server answering with ``handler(method, path, headers, body)``; records the requests."""

    def __init__(self) -> None:
        self.handler: Callable[[str, str, Dict[str, str], bytes], Answer] = lambda *_: (404, {}, b"")
        self.requests: List[Dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                stub.requests.append({"method": self.command, "path": self.path, "headers": headers, "body": body})
                status, extra, payload = stub.handler(self.command, self.path, headers, body)
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = Stub()
    yield server
    server.close()


# ---- the real registry ---------------------------------------------------------------------

def _require(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.skip(f"needs a running registry: {name} is not set (tools/e2e/python-client.e2e.spec.ts sets it)")
    return value


@pytest.fixture(scope="session")
def registry_url() -> str:
    return _require("MRW_URL")


@pytest.fixture(scope="session")
def admin_token() -> str:
    return _require("MRW_TOKEN")


@pytest.fixture(scope="session")
def fixtures() -> Path:
    path = Path(_require("MRW_FIXTURES"))
    if not (path / "breast-cancer-logreg.onnx").is_file():
        pytest.fail(f"MRW_FIXTURES={path} does not hold the evaluator's fixtures")
    return path


@pytest.fixture(scope="session")
def eval_set() -> str:
    return os.environ.get("MRW_EVAL_SET", "breast-cancer-holdout")


@pytest.fixture
def client(registry_url: str, admin_token: str):  # type: ignore[no-untyped-def]
    from mrw_client import Client

    return Client(registry_url, admin_token)


@pytest.fixture
def model_name(request: pytest.FixtureRequest) -> str:
    # Each test its own model, so the suite also runs against a registry that is not empty.
    stem = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower().replace("test_", "", 1))[:40].strip("-")
    return f"py-{stem}-{uuid.uuid4().hex[:8]}"
