"""Serve files over HTTP with Range support, streamed by asyncfile.ChunkReader.

    python examples/range_server.py --root DIR [--host 127.0.0.1] [--port 8080]

``GET /files/<name>`` answers 200 with the whole file, 206 with one range
(``Range: bytes=a-b``, ``a-`` or ``-n``, with ``Content-Range``), or 416 with
``Content-Range: bytes */<size>`` for a range outside the file.  ``GET /ping``
answers at once: while large files stream, it shows the loop stays free.
Prints ``listening on http://HOST:PORT`` once it accepts connections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
from pathlib import Path

from aiohttp import web

import asyncfile

CHUNK = 256 * 1024
RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``(start, end)`` (end exclusive) of a single-range header.

    Raises ``ValueError`` if it cannot be satisfied; returns ``None`` for a
    header this server ignores (several ranges: the whole file is sent).
    """
    if "," in header:
        return None
    match = RANGE.match(header.strip())
    if match is None or match.groups() == ("", ""):
        raise ValueError(header)
    first, last = match.groups()
    if first == "":  # the last n bytes
        count = int(last)
        if count == 0 or size == 0:
            raise ValueError(header)
        return max(0, size - count), size
    start = int(first)
    end = size if last == "" else min(size, int(last) + 1)
    if start >= size or end <= start:
        raise ValueError(header)
    return start, end


async def serve_file(request: web.Request) -> web.StreamResponse:
    root: Path = request.app["root"]
    path = (root / request.match_info["name"]).resolve()
    if root not in path.parents or not path.is_file():
        raise web.HTTPNotFound()
    size = os.stat(path).st_size
    start, end, status = 0, size, 200
    header = request.headers.get("Range")
    if header is not None:
        try:
            wanted = parse_range(header, size)
        except ValueError:
            raise web.HTTPRequestRangeNotSatisfiable(
                headers={"Content-Range": f"bytes */{size}"}
            ) from None
        if wanted is not None:
            (start, end), status = wanted, 206
    response = web.StreamResponse(status=status)
    response.content_length = end - start
    response.content_type = "application/octet-stream"
    response.headers["Accept-Ranges"] = "bytes"
    if status == 206:
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    await response.prepare(request)
    async with asyncfile.ChunkReader(
        path, chunk_size=CHUNK, start=start, end=end
    ) as chunks:
        async for chunk in chunks:
            await response.write(chunk)
    await response.write_eof()
    return response


async def ping(request: web.Request) -> web.Response:
    return web.Response(text="pong")


def make_app(root: Path) -> web.Application:
    app = web.Application()
    app["root"] = root.resolve()
    app.router.add_get("/files/{name}", serve_file)
    app.router.add_get("/ping", ping)
    return app


async def main(root: Path, host: str, port: int) -> None:
    runner = web.AppRunner(make_app(root))
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    for address in runner.addresses:
        print(f"listening on http://{address[0]}:{address[1]}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.root, args.host, args.port))
