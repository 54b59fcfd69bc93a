"""The multipart encoder, read back by an independent parser (the standard library's email package)."""

from __future__ import annotations

import hashlib
import json
from email import message_from_bytes
from email.message import Message
from email.policy import HTTP
from pathlib import Path
from typing import List, Tuple

import pytest

from mrw_client import MultipartEncoder


def parse(encoder: MultipartEncoder, body: bytes) -> List[Message]:
    message = message_from_bytes(f"Content-Type: {encoder.content_type}\r\n\r\n".encode("ascii") + body, policy=HTTP)
    assert message.is_multipart()
    return list(message.iter_parts())  # type: ignore[attr-defined]


def test_a_file_and_a_text_field_parse_back_byte_for_byte(tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    payload = bytes(range(256)) * 5000 + b"\r\n--not-the-boundary\r\n"  # > one block, binary, CRLFs
    model.write_bytes(payload)
    manifest = json.dumps({"task": "binary", "label": "label"})
    encoder = MultipartEncoder().add_file("file", model).add_field("manifest", manifest, "application/json")

    body = encoder.to_bytes()

    assert len(body) == encoder.content_length
    file_part, manifest_part = parse(encoder, body)
    assert file_part.get_param("name", header="content-disposition") == "file"
    assert file_part.get_filename() == "model.onnx"
    assert file_part.get_content_type() == "application/octet-stream"
    assert file_part.get_payload(decode=True) == payload
    assert manifest_part.get_filename() is None
    assert manifest_part.get_content_type() == "application/json"
    manifest_bytes = manifest_part.get_payload(decode=True)
    assert isinstance(manifest_bytes, bytes)
    assert json.loads(manifest_bytes) == {"task": "binary", "label": "label"}
    assert body.endswith(f"--{encoder.boundary}--\r\n".encode("ascii"))


def test_the_digest_is_the_sha256_of_the_file_as_sent(tmp_path: Path) -> None:
    model = tmp_path / "m.bin"
    model.write_bytes(b"weights" * 100_000)
    encoder = MultipartEncoder().add_file("file", model)
    with pytest.raises(RuntimeError):
        encoder.digest("file")  # nothing sent yet
    b"".join(encoder.iter_chunks())
    assert encoder.digest("file") == "sha256:" + hashlib.sha256(model.read_bytes()).hexdigest()


def test_progress_counts_every_byte_up_to_the_content_length(tmp_path: Path) -> None:
    model = tmp_path / "m.bin"
    model.write_bytes(b"x" * (3 * 1024 * 1024 + 17))
    encoder = MultipartEncoder().add_file("file", model)
    seen: List[Tuple[int, int]] = []
    sent = sum(len(chunk) for chunk in encoder.iter_chunks(lambda done, total: seen.append((done, total))))
    assert sent == encoder.content_length
    assert seen[-1] == (encoder.content_length, encoder.content_length)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert len(seen) > 3  # the file went in blocks, not at once


def test_quotes_and_line_breaks_in_a_filename_cannot_break_out_of_the_header() -> None:
    encoder = MultipartEncoder().add_bytes("file", b"abc", filename='evil".onnx\r\nX-Injected: 1')
    body = encoder.to_bytes()
    (part,) = parse(encoder, body)
    assert part.get_filename() == "evil%22.onnx%0D%0AX-Injected: 1"
    assert part["X-Injected"] is None
    assert part.get_payload(decode=True) == b"abc"


def test_a_non_ascii_filename_is_sent_as_utf8() -> None:
    encoder = MultipartEncoder().add_bytes("file", b"abc", filename="modèle.onnx")
    assert 'filename="modèle.onnx"'.encode("utf-8") in encoder.to_bytes()


def test_bytes_that_contain_the_boundary_are_refused() -> None:
    encoder = MultipartEncoder(boundary="fixed")
    with pytest.raises(ValueError, match="boundary"):
        encoder.add_bytes("file", b"before\r\n--fixed\r\nafter", filename="f")


def test_a_body_is_sent_once(tmp_path: Path) -> None:
    encoder = MultipartEncoder().add_field("a", "b")
    encoder.to_bytes()
    with pytest.raises(RuntimeError, match="once"):
        encoder.to_bytes()


def test_a_file_that_grows_while_it_is_sent_stops_the_upload(tmp_path: Path) -> None:
    model = tmp_path / "growing.bin"
    model.write_bytes(b"a" * 10)
    encoder = MultipartEncoder().add_file("file", model)
    chunks = encoder.iter_chunks()
    next(chunks)  # the part's headers: the size is already announced
    with model.open("ab") as f:
        f.write(b"more")
    with pytest.raises(RuntimeError, match="changed size"):
        list(chunks)
