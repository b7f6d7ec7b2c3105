"""examples/range_server.py answers as RFC 9110 says, checked on the wire.

The example runs as a user runs it (its own process, on loopback); each
request goes over a raw socket with ``Connection: close``, so everything
after the header block is the body as sent, byte for byte.
"""

from __future__ import annotations

import email.utils
import os
import re
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from platforms import FIFO

pytest.importorskip("aiohttp")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "range_server.py"
SMALL = os.urandom(100_000)
BIG_SIZE = 64 << 20


class Reply(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


class Server(NamedTuple):
    host: str
    port: int
    log: Path
    root: Path

    def request(
        self, target: str, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> Reply:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        lines.append("Connection: close")
        with socket.create_connection((self.host, self.port), timeout=30) as sock:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            received = bytearray()
            while block := sock.recv(1 << 16):
                received += block
        head, _, body = bytes(received).partition(b"\r\n\r\n")
        status_line, *fields = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        parsed = {}
        for field in fields:
            name, _, value = field.partition(":")
            parsed[name.strip().lower()] = value.strip()
        return Reply(status, parsed, body)

    def log_text(self) -> str:
        return self.log.read_text()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    top = tmp_path_factory.mktemp("range_server")
    (top / "secret.txt").write_text("outside the root\n")
    root = top / "root"
    root.mkdir()
    (root / "small.bin").write_bytes(SMALL)
    (root / "empty.bin").write_bytes(b"")
    (root / "sub").mkdir()
    (root / "sub" / "page.html").write_bytes(b"<p>hello</p>\n")
    (root / "link-out").symlink_to(top / "secret.txt")
    if FIFO.present:
        os.mkfifo(root / "fifo")
    with (root / "big.bin").open("wb") as big:
        big.truncate(BIG_SIZE)
    log = top / "server.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, str(EXAMPLE), "--root", str(root), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.match(r"listening on http://(\S+):(\d+)", line)
        assert match, (line, log.read_text())
        yield Server(match.group(1), int(match.group(2)), log, root)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def test_whole_file_with_validators(server: Server) -> None:
    reply = server.request("/files/small.bin")
    assert reply.status == 200
    assert reply.body == SMALL
    assert reply.headers["content-length"] == str(len(SMALL))
    assert reply.headers["accept-ranges"] == "bytes"
    assert reply.headers["content-type"] == "application/octet-stream"
    assert re.fullmatch(r'"[0-9a-f-]+"', reply.headers["etag"])
    mtime = (server.root / "small.bin").stat().st_mtime
    assert reply.headers["last-modified"] == email.utils.formatdate(mtime, usegmt=True)
    assert "content-range" not in reply.headers


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-3", 0, 4),
        ("bytes=1000-1999", 1000, 2000),
        ("bytes=99999-", 99_999, 100_000),
        ("bytes=10-", 10, 100_000),
        ("bytes=-100", 99_900, 100_000),
        ("bytes=-100001", 0, 100_000),
        ("bytes=5-99999999", 5, 100_000),
        (f"bytes=5-{'9' * 5000}", 5, 100_000),
        ("BYTES=0-3", 0, 4),
        ("bytes= 7-8 ", 7, 9),
        ("bytes=7-8,", 7, 9),
    ],
)
def test_a_single_range_answers_206(
    server: Server, header: str, start: int, end: int
) -> None:
    reply = server.request("/files/small.bin", {"Range": header})
    assert reply.status == 206, header
    assert reply.headers["content-range"] == f"bytes {start}-{end - 1}/100000"
    assert reply.headers["content-length"] == str(end - start)
    assert reply.body == SMALL[start:end]


@pytest.mark.parametrize(
    "header",
    [
        "items=0-3",
        "bytes 0-3",
        "bytes=5-2",
        "bytes=x-3",
        "bytes=",
        "bytes=-",
        "bytes=0-1,5-6",
        "bytes=0-1, 200000-",
    ],
)
def test_range_unknown_unit_invalid_or_several_serves_the_whole_file(
    server: Server, header: str
) -> None:
    reply = server.request("/files/small.bin", {"Range": header})
    assert reply.status == 200, header
    assert reply.body == SMALL
    assert "content-range" not in reply.headers


@pytest.mark.parametrize(
    "header",
    ["bytes=100000-", "bytes=100000-100005", "bytes=-0", f"bytes={'9' * 5000}-"],
)
def test_unsatisfiable_range_answers_416(server: Server, header: str) -> None:
    reply = server.request("/files/small.bin", {"Range": header})
    assert reply.status == 416, header
    assert reply.headers["content-range"] == "bytes */100000"


def test_empty_file(server: Server) -> None:
    whole = server.request("/files/empty.bin")
    assert (whole.status, whole.body, whole.headers["content-length"]) == (
        200,
        b"",
        "0",
    )
    assert server.request("/files/empty.bin", {"Range": "bytes=0-"}).status == 416
    suffix = server.request("/files/empty.bin", {"Range": "bytes=-5"})
    assert (suffix.status, suffix.body) == (200, b"")


def test_if_range(server: Server) -> None:
    validators = server.request("/files/small.bin", method="HEAD").headers
    etag, last_modified = validators["etag"], validators["last-modified"]
    for if_range, status in [
        (etag, 206),
        (last_modified, 206),
        ('"another-version"', 200),
        (f"W/{etag}", 200),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 200),
    ]:
        reply = server.request(
            "/files/small.bin", {"Range": "bytes=0-9", "If-Range": if_range}
        )
        assert reply.status == status, if_range
        assert reply.body == (SMALL[:10] if status == 206 else SMALL)


def test_conditional_get_answers_304(server: Server) -> None:
    validators = server.request("/files/small.bin", method="HEAD").headers
    etag = validators["etag"]
    for headers in [
        {"If-None-Match": etag},
        {"If-None-Match": f'"other", W/{etag}'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": validators["last-modified"]},
    ]:
        reply = server.request("/files/small.bin", headers)
        assert (reply.status, reply.body) == (304, b""), headers
        assert reply.headers["etag"] == etag
    for headers in [
        {"If-None-Match": '"other"'},
        {"If-None-Match": '"other"', "If-Modified-Since": validators["last-modified"]},
        {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"},
    ]:
        reply = server.request("/files/small.bin", headers)
        assert (reply.status, reply.body) == (200, SMALL), headers


def test_head_sends_the_headers_and_no_body(server: Server) -> None:
    get = server.request("/files/big.bin", {"Range": "bytes=0-0"})
    assert get.status == 206
    for headers in [{}, {"Range": "bytes=0-9"}]:
        head = server.request("/files/big.bin", headers, method="HEAD")
        assert head.status == 200  # range requests are defined for GET only
        assert head.body == b""
        assert head.headers["content-length"] == str(BIG_SIZE)
        for name in ("accept-ranges", "etag", "last-modified", "content-type"):
            assert head.headers[name] == get.headers[name], name


@pytest.mark.parametrize(
    "target",
    [
        "/files/..%2Fsecret.txt",
        "/files/sub%2F..%2F..%2Fsecret.txt",
        "/files/../secret.txt",
        "/files/link-out",
        "/files/sub",
        pytest.param("/files/fifo", marks=FIFO.mark),
        "/files/missing.bin",
        "/files/small.bin%00",
    ],
)
def test_nothing_outside_the_root_nor_a_directory_is_served(
    server: Server, target: str
) -> None:
    reply = server.request(target)
    assert reply.status == 404, target
    assert b"outside the root" not in reply.body


def test_a_file_in_a_subdirectory(server: Server) -> None:
    reply = server.request("/files/sub/page.html")
    assert (reply.status, reply.body) == (200, b"<p>hello</p>\n")
    assert reply.headers["content-type"].startswith("text/html")


def test_client_disconnect_mid_body_logs_one_line_and_no_traceback(
    server: Server,
) -> None:
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        sock.sendall(b"GET /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        received = 0
        while received < 1 << 20:
            received += len(sock.recv(1 << 16))
        # Reset rather than close politely: the server's next write fails.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    deadline = time.monotonic() + 30
    while "the client left" not in server.log_text():
        assert time.monotonic() < deadline, server.log_text()
        time.sleep(0.05)
    assert server.request("/ping").body == b"pong"  # still serving
    log = server.log_text()
    left = [line for line in log.splitlines() if "the client left" in line]
    assert len(left) == 1, log
    assert re.fullmatch(
        rf"INFO 127\.0\.0\.1 /files/big\.bin: the client left after \d+ of {BIG_SIZE} "
        "bytes",
        left[0],
    )
    assert "Traceback" not in log
    assert "Error" not in log
