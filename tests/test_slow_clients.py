"""Slow clients against a real ``advlab serve``: headers or a body sent a byte at a time get a 408
and a closed connection once their deadline passes; normal requests are unaffected."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import ROOT, _free_port, _wait_healthy

HEADER_S, BODY_S = 1.0, 2.0


@pytest.fixture(scope="module")
def server(tmp_path_factory, data_dir):
    port = _free_port()
    env = {
        **os.environ,
        "ADVLAB_IMAGE_STORE_DIR": str(tmp_path_factory.mktemp("slow-images")),
        "ADVLAB_JOBS_DIR": str(tmp_path_factory.mktemp("slow-jobs")),
        "ADVLAB_ALLOW_DOWNLOADS": "0",
        "ADVLAB_DATA_DIR": str(data_dir),
        "ADVLAB_HEADER_TIMEOUT_S": str(HEADER_S),
        "ADVLAB_BODY_TIMEOUT_S": str(BODY_S),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(15)  # far beyond the deadlines: a hang fails the test
    return s


def read_all(s: socket.socket) -> bytes:
    """Everything until the server closes the connection."""
    chunks = []
    while chunk := s.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks)


def read_response(s: socket.socket) -> bytes:
    """One whole response (headers and a Content-Length body) from a connection that stays open."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(
        next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    )
    while len(body) < length:
        body += s.recv(4096)
    return head + b"\r\n\r\n" + body


def trickle(s: socket.socket, data: bytes, seconds: float) -> bool:
    """Send data a byte at a time for up to ``seconds``; False once the server has closed."""
    deadline = time.monotonic() + seconds
    for byte in data:
        if time.monotonic() > deadline:
            break
        try:
            s.sendall(bytes([byte]))
        except OSError:
            return False
        time.sleep(0.2)
    return True


def test_headers_sent_a_byte_at_a_time_are_cut_off(server) -> None:
    slow = [connect(server) for _ in range(20)]
    started = time.monotonic()
    for s in slow:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # and never the end of the headers
    answers = [read_all(s) for s in slow]
    assert all(a.startswith(b"HTTP/1.1 408") and b"too slowly" in a for a in answers)
    assert time.monotonic() - started < HEADER_S + 10
    assert httpx.get(f"http://127.0.0.1:{server}/healthz").status_code == 200  # the others are fine


def test_a_connection_that_sends_nothing_is_closed_silently(server) -> None:
    s = connect(server)
    assert read_all(s) == b""


def test_a_body_that_trickles_in_is_cut_off(server) -> None:
    s = connect(server)
    s.sendall(
        b"POST /api/v1/classify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    trickle(s, b'{"model": "mnist-cnn", "image": "' + b"x" * 900, BODY_S + 3)
    answer = read_all(s)
    assert answer.startswith(b"HTTP/1.1 408") and b"too slowly" in answer


def test_a_keep_alive_connection_gets_a_fresh_header_deadline_per_request(server) -> None:
    s = connect(server)
    for _ in range(2):  # requests in time are answered on the same connection
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert read_response(s).startswith(b"HTTP/1.1 200")
        time.sleep(HEADER_S / 2)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # the third one stalls
    assert read_all(s).startswith(b"HTTP/1.1 408")


def test_a_normal_upload_and_request_are_not_affected(server) -> None:
    png = (ROOT / "gallery").glob("**/*.png").__next__().read_bytes()
    base = f"http://127.0.0.1:{server}"
    uploaded = httpx.post(f"{base}/api/v1/images", files={"file": ("digit.png", png, "image/png")})
    assert uploaded.status_code in (200, 201), uploaded.text
    answer = httpx.post(f"{base}/api/v1/classify", json={"model": "mnist-cnn", "image": "sample:mnist-00003"})
    assert answer.status_code == 200
