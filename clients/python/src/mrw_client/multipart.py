"""multipart/form-data (RFC 7578) from the standard library, streamed: a model file of gigabytes
is sent in blocks with a known Content-Length, never held in memory, and hashed on the way."""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterator, List, Optional, Union

BLOCK = 1024 * 1024

PathLike = Union[str, "os.PathLike[str]"]


def _quote(value: str) -> str:
    # What browsers send (WHATWG's form encoding): a quote or a line break cannot end the
    # parameter or the header early.
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


@dataclass
class _Part:
    headers: bytes
    data: Optional[bytes] = None
    path: Optional[str] = None
    size: int = 0
    sha256: "hashlib._Hash" = field(default_factory=hashlib.sha256)


class MultipartEncoder:
    """A form body to iterate once: ``content_type``, ``content_length`` and the chunks.

    After the body has been sent, ``digest(name)`` is ``sha256:<hex>`` of the bytes sent for
    that part, so what went over the wire can be compared with what the server stored.
    """

    def __init__(self, boundary: Optional[str] = None) -> None:
        self.boundary = boundary or f"mrw-{uuid.uuid4().hex}"
        self._parts: List[_Part] = []
        self._names: List[str] = []
        self._iterated = False

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _head(self, name: str, filename: Optional[str], content_type: Optional[str]) -> bytes:
        disposition = f'form-data; name="{_quote(name)}"' + (f'; filename="{_quote(filename)}"' if filename is not None else "")
        lines = [f"--{self.boundary}", f"Content-Disposition: {disposition}"]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def add_field(self, name: str, value: str, content_type: Optional[str] = None) -> "MultipartEncoder":
        """A text part (e.g. a JSON manifest)."""
        data = value.encode("utf-8")
        self._check(data)
        self._parts.append(_Part(self._head(name, None, content_type), data=data, size=len(data)))
        self._names.append(name)
        return self

    def add_bytes(self, name: str, data: bytes, filename: str, content_type: str = "application/octet-stream") -> "MultipartEncoder":
        """A file part from bytes in memory."""
        self._check(data)
        self._parts.append(_Part(self._head(name, filename, content_type), data=bytes(data), size=len(data)))
        self._names.append(name)
        return self

    def add_file(self, name: str, path: PathLike, filename: Optional[str] = None, content_type: str = "application/octet-stream") -> "MultipartEncoder":
        """A file part read from disk while the body is sent."""
        p = os.fspath(path)
        size = os.path.getsize(p)
        self._parts.append(_Part(self._head(name, filename or os.path.basename(p), content_type), path=p, size=size))
        self._names.append(name)
        return self

    def _check(self, data: bytes) -> None:
        # A boundary inside a part would end it early. The random boundary makes this
        # practically impossible for files too, but bytes in memory are cheap to check.
        if f"--{self.boundary}".encode("ascii") in data:
            raise ValueError("the multipart boundary occurs in a part; use another boundary")

    @property
    def _closing(self) -> bytes:
        return f"--{self.boundary}--\r\n".encode("ascii")

    @property
    def content_length(self) -> int:
        return sum(len(p.headers) + p.size + 2 for p in self._parts) + len(self._closing)

    def digest(self, name: str) -> str:
        """``sha256:<hex>`` of the part's bytes as sent (after iterating the body)."""
        if not self._iterated:
            raise RuntimeError("the body has not been sent yet")
        return "sha256:" + self._parts[self._names.index(name)].sha256.hexdigest()

    def iter_chunks(self, progress: Optional[Callable[[int, int], None]] = None) -> Iterator[bytes]:
        """The body, in blocks; ``progress(sent, total)`` after each one."""
        if self._iterated:
            raise RuntimeError("a multipart body can be sent once")
        self._iterated = True
        total = self.content_length
        sent = 0

        def emit(chunk: bytes) -> bytes:
            nonlocal sent
            sent += len(chunk)
            if progress is not None:
                progress(sent, total)
            return chunk

        for part in self._parts:
            yield emit(part.headers)
            if part.data is not None:
                part.sha256.update(part.data)
                yield emit(part.data)
            else:
                assert part.path is not None
                read = 0
                with open(part.path, "rb") as f:
                    while read < part.size:
                        block = f.read(min(BLOCK, part.size - read))
                        if not block:
                            break
                        read += len(block)
                        part.sha256.update(block)
                        yield emit(block)
                    grew = f.read(1) != b""
                if read != part.size or grew:
                    # Content-Length was announced from the size: a file that changed while it
                    # was sent would make a corrupt request, so stop instead.
                    raise RuntimeError(f"{part.path} changed size while it was uploaded (was {part.size} bytes)")
            yield emit(b"\r\n")
        yield emit(self._closing)

    def to_bytes(self) -> bytes:
        """The whole body at once (small forms, tests)."""
        return b"".join(self.iter_chunks())
