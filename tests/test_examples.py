"""The programs in examples/ really run: a range-streaming aiohttp server,
two log handlers side by side on a stalled disk and a file copy with a
progress bar."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

aiohttp = pytest.importorskip("aiohttp")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MiB = 1 << 20


def run_example(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    path = tmp_path_factory.mktemp("served") / "big.bin"
    data = os.urandom(256 * MiB)
    path.write_bytes(data)
    return path, data


@pytest.fixture
def server(big_file: tuple[Path, bytes]) -> Iterator[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            str(EXAMPLES / "range_server.py"),
            "--root",
            str(big_file[0].parent),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.match(r"listening on (http://\S+)", line)
        assert match, line
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


async def fetch(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str, int]:
    """Status, headers, SHA-256 and length of the body, streamed."""
    digest = hashlib.sha256()
    size = 0
    async with session.get(url, headers=headers) as response:
        async for block in response.content.iter_chunked(1 << 20):
            digest.update(block)
            size += len(block)
        return response.status, dict(response.headers), digest.hexdigest(), size


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_range_server_streams_whole_and_ranges(
    server: str, big_file: tuple[Path, bytes]
) -> None:
    _, data = big_file
    size = len(data)
    url = f"{server}/files/big.bin"
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:
        downloads = asyncio.gather(
            fetch(session, url),
            fetch(session, url, {"Range": "bytes=1000-100999999"}),
            fetch(session, url, {"Range": "bytes=-4096"}),
            fetch(session, url, {"Range": f"bytes={size - 10}-"}),
        )
        task = asyncio.ensure_future(downloads)
        while not task.done():
            started = time.perf_counter()
            async with session.get(f"{server}/ping") as response:
                assert await response.text() == "pong"
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.01)
        whole, middle, suffix, tail = await task

        status, headers, digest, length = whole
        assert (status, length, digest) == (200, size, sha(data))
        assert headers["Content-Length"] == str(size)
        assert headers["Accept-Ranges"] == "bytes"

        status, headers, digest, length = middle
        assert status == 206
        assert headers["Content-Range"] == f"bytes 1000-100999999/{size}"
        assert (length, digest) == (100_999_000, sha(data[1000:101_000_000]))

        assert suffix[0] == 206
        assert suffix[1]["Content-Range"] == f"bytes {size - 4096}-{size - 1}/{size}"
        assert suffix[2] == sha(data[-4096:])
        assert tail[2] == sha(data[-10:])

        for bad in (f"bytes={size}-", "bytes=-0"):
            async with session.get(url, headers={"Range": bad}) as response:
                assert response.status == 416, bad
                assert response.headers["Content-Range"] == f"bytes */{size}"
        async with session.get(f"{server}/files/missing.bin") as response:
            assert response.status == 404

    # Small requests kept being answered during the downloads, and fast.
    assert len(latencies) >= 5
    latencies.sort()
    assert latencies[len(latencies) // 2] < 0.05, latencies
    assert latencies[-1] < 0.5, latencies


def test_log_writer_shows_the_loop_spared_a_stalled_disk() -> None:
    """The example freezes its own file system for STALL seconds in each of
    two runs: FileHandler holds the loop for the whole stall (its write()
    waits on the loop's thread), AsyncFileHandler does not, and both files
    keep every record."""
    stall = 0.6
    done = run_example("log_writer.py", "--stall", str(stall), "--seconds", "1.8")
    if done.stdout.startswith("no stall"):
        pytest.skip(done.stdout.splitlines()[0])
    found = dict(
        re.findall(
            r"^(\S+Handler) +\d+ records, all written, worst loop lag ([\d.]+) ms",
            done.stdout,
            re.MULTILINE,
        )
    )
    assert set(found) == {"logging.FileHandler", "asyncfile.AsyncFileHandler"}, (
        done.stdout
    )
    plain = float(found["logging.FileHandler"]) / 1e3
    behind = float(found["asyncfile.AsyncFileHandler"]) / 1e3
    # The blocked write lasts the whole stall, whatever the load; the
    # handler's lag is the machine's scheduling noise, far below it.
    assert plain >= 0.9 * stall, done.stdout
    assert behind < stall / 3, done.stdout
    assert "dropped 0" in done.stdout


def test_copy_with_progress(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    data = os.urandom(20 * MiB + 12345)
    source.write_bytes(data)
    dest = tmp_path / "dest.bin"
    done = run_example("copy_progress.py", str(source), str(dest), "--chunk-kib", "256")
    assert dest.read_bytes() == data
    assert "100.0%" in done.stderr
    assert f"copied {len(data)} bytes" in done.stdout
