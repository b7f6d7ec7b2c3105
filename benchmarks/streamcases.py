"""Stream-level work: serving a file over aiohttp, and logging records.

``ServeFile`` starts an aiohttp server on the measured loop (127.0.0.1, a free
port) whose handler streams the data file with the contender's chunk idiom
(the same :class:`~benchmarks.filecases.FileHandle` the ``stream`` case
uses), or with the contender's own response (``FileHandle.respond``: aiohttp's
``FileResponse``); ``curl`` processes (started by worker threads) download
it, so the client costs the measured loop nothing.  The heartbeat shows how
long the handler holds the server's loop.

``LogRecords`` logs records from the loop through the contender's handler
(``FileHandle.log_handler``), yielding to the loop every
:data:`YIELD_EVERY` records as an application would, then finishes (flush and
close, awaited where the handler allows it); the file must then hold every
record, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.filecases import FileHandle, ReadChunks, Tally, check

MiB = 1 << 20
CURL = "curl"
YIELD_EVERY = 20
SERVE_CHUNK = 256 * 1024


@dataclass(frozen=True)
class ServeFile:
    """``clients`` concurrent ``curl`` downloads of the whole file."""

    clients: int = 2
    chunk: int = SERVE_CHUNK
    unit: str = "MiB"

    def describe(self) -> str:
        return (
            f"an aiohttp server on the measured loop streams the file "
            f"({self.chunk >> 10} KiB chunks) to {self.clients} concurrent `curl` "
            "downloads over loopback; one op is one MiB sent"
        )

    def expected(self, path: Path, ops: int) -> Tally:
        size = os.stat(path).st_size
        if ops * MiB != size * self.clients:
            raise ValueError(f"{path}: {ops} MiB is not {self.clients} downloads")
        return Tally(ops, size * self.clients)

    async def run(self, handle: FileHandle, path: Path) -> Tally:
        async with _serving(handle, path, self.chunk) as url:
            sizes = await asyncio.gather(
                *(_curl(url, None) for _ in range(self.clients))
            )
        total = sum(int(size) for size in sizes)
        return Tally(total // MiB, total)

    async def verify(self, handle: FileHandle, path: Path) -> None:
        """One download, whose SHA-256 must be the file's."""
        digest = hashlib.sha256()
        async with _serving(handle, path, self.chunk) as url:
            await _curl(url, digest)
        if digest.hexdigest() != await asyncio.to_thread(_sha256, path):
            raise AssertionError("the downloaded file differs from the data file")

    def confirm(self, got: Tally, expected: Tally, path: Path) -> None:
        check(got, expected, self.unit)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()  # hashlib.file_digest is 3.11+
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.asynccontextmanager
async def _serving(handle: FileHandle, path: Path, chunk: int) -> Any:
    from aiohttp import web

    if shutil.which(CURL) is None:
        raise RuntimeError("the serve case needs curl on PATH")
    size = os.stat(path).st_size

    async def download(request: web.Request) -> web.StreamResponse:
        if handle.respond is not None:
            response: web.StreamResponse = await handle.respond(request, path)
            return response
        response = web.StreamResponse()
        response.content_length = size
        await response.prepare(request)
        chunks = ReadChunks(chunk)._chunks(handle, path)
        async with contextlib.aclosing(chunks):
            async for data in chunks:
                await response.write(data)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/data", download)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/data"
    finally:
        await runner.cleanup()


async def _curl(url: str, digest: Any) -> int:
    """Download ``url``; its size (hashing it into ``digest`` if given).

    ``curl`` is started and waited for by a worker thread, so that forking
    it costs the measured loop nothing.
    """
    return await asyncio.to_thread(_curl_blocking, url, digest)


def _curl_blocking(url: str, digest: Any) -> int:
    if digest is None:
        done = subprocess.run(
            [CURL, "-sS", "-o", "/dev/null", "-w", "%{size_download}", url],
            capture_output=True,
            check=True,
        )
        return int(done.stdout)
    size = 0
    with subprocess.Popen([CURL, "-sS", url], stdout=subprocess.PIPE) as process:
        assert process.stdout is not None
        while block := process.stdout.read(MiB):
            digest.update(block)
            size += len(block)
    if process.returncode:
        raise RuntimeError(f"curl failed ({process.returncode})")
    return size


RECORD = "record %06d " + "x" * 45
"""A 60-byte line (with the newline) for every record number below 1e6."""


@dataclass(frozen=True)
class LogRecords:
    """``count`` records of 60 bytes logged from the loop, then finished."""

    count: int
    unit: str = "record"

    def describe(self) -> str:
        return (
            f"{self.count:,} `log.info()` records of 60 bytes (format "
            f"`%(message)s`) from the loop, yielding every {YIELD_EVERY}; then the "
            "handler is flushed and closed; the file is checked and deleted"
        )

    def expected(self, path: Path, ops: int) -> Tally:
        if ops != self.count:
            raise ValueError(f"the case logs {self.count} records, not {ops}")
        return Tally(self.count, self.count * 60)

    async def run(self, handle: FileHandle, path: Path) -> Tally:
        if handle.log_handler is None:
            raise TypeError("the log case needs FileHandle.log_handler")
        handler, finish = handle.log_handler(path)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log = logging.Logger("benchmark", logging.INFO)
        log.addHandler(handler)
        info = log.info
        sleep = asyncio.sleep
        for i in range(self.count):
            info(RECORD, i)
            if i % YIELD_EVERY == YIELD_EVERY - 1:
                await sleep(0)
        await finish()
        return Tally(self.count, os.stat(path).st_size)

    async def verify(self, handle: FileHandle, path: Path) -> None:
        tally = await self.run(handle, path)
        self.confirm(tally, self.expected(path, self.count), path)

    def confirm(self, got: Tally, expected: Tally, path: Path) -> None:
        try:
            check(got, expected, self.unit)
            want = "".join(RECORD % i + "\n" for i in range(self.count))
            if Path(path).read_text() != want:
                raise AssertionError(f"{path} does not hold every record in order")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
