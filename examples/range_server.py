"""Serve files over HTTP with range requests, streamed by asyncfile.ChunkReader.

    python examples/range_server.py --root DIR [--host 127.0.0.1] [--port 8080]

``GET /files/<path>`` and ``HEAD /files/<path>`` serve the regular files under
DIR as RFC 9110 says (a path that leads out of DIR, through ``..`` or a
symbolic link, answers 404):

- 200 with the whole file, and ``Accept-Ranges: bytes``, ``Content-Length``,
  ``Content-Type`` (guessed from the name), ``ETag`` and ``Last-Modified``.
- ``Range: bytes=a-b``, ``bytes=a-`` or ``bytes=-n`` (the last n bytes): 206
  with that part and ``Content-Range: bytes first-last/size``; a range that
  starts at or past the end of the file, or ``bytes=-0``: 416 with
  ``Content-Range: bytes */size``.
- The whole file (200) whenever RFC 9110 lets a server ignore ``Range``: on
  HEAD (range requests are defined for GET only), for another unit than
  ``bytes``, for invalid syntax (``bytes=5-2``, ``bytes=x``), when
  ``If-Range`` names another version of the file, and for several ranges in
  one request: the whole file holds them all, and a ``multipart/byteranges``
  answer would take more code than this example should (the cost: a client
  asking for two small pieces of a large file gets all of it).
- 304 when ``If-None-Match`` (or, without it, ``If-Modified-Since``) shows
  the client's copy is current.
- HEAD: the headers GET would send, and no body.
- A client that goes away mid-body ends its response with one INFO log line.

``GET /ping`` answers at once: while large files stream, it shows the loop
stays free.  Prints ``listening on http://HOST:PORT`` once it accepts
connections, and logs each request (aiohttp's access log) on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import logging
import mimetypes
import os
import re
import stat
from pathlib import Path

from aiohttp import web

import asyncfile

CHUNK = 256 * 1024
ROOT = web.AppKey("root", Path)
BYTE_RANGE = re.compile(r"([0-9]*)-([0-9]*)")
LARGEST_OFFSET = 2**63 - 1

log = logging.getLogger("range_server")


class RangeNotSatisfiable(Exception):
    """The request's range lies outside the file (answered with 416)."""


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``(start, end)`` (end exclusive) of the part of a ``size``-byte file a
    ``Range`` header asks for, or ``None`` to send the whole file.

    ``None`` for a header RFC 9110 lets a server ignore: another unit than
    ``bytes``, invalid syntax, several ranges, a suffix range of an empty
    file.  Raises :class:`RangeNotSatisfiable` for a range outside the file.
    """
    unit, equals, range_set = header.partition("=")
    if not equals or unit.lower() != "bytes":
        return None
    specs = [spec.strip(" \t") for spec in range_set.split(",")]
    specs = [spec for spec in specs if spec]  # the list syntax allows empty items
    if len(specs) != 1:
        return None
    match = BYTE_RANGE.fullmatch(specs[0])
    if match is None:
        return None
    first, last = match.groups()
    if first:
        start = position(first)
        if last and position(last) < start:
            return None
        if start >= size:
            raise RangeNotSatisfiable(header)
        return start, size if not last else min(size, position(last) + 1)
    if not last:
        return None
    count = position(last)
    if count == 0:
        raise RangeNotSatisfiable(header)
    return None if size == 0 else (max(0, size - count), size)


def position(digits: str) -> int:
    """The number ``digits`` spell; one past any file offset stands for them
    all (``int()`` refuses numbers of thousands of digits)."""
    significant = digits.lstrip("0")
    if len(significant) > len(str(LARGEST_OFFSET)):
        return LARGEST_OFFSET + 1
    return int(significant or "0")


def if_range_holds(value: str, etag: str, last_modified: str) -> bool:
    """Whether an ``If-Range`` value names the version being served: its
    strong ETag, or exactly its ``Last-Modified`` date."""
    if value.startswith(("W/", '"')):
        return value == etag  # a weak tag never matches (strong comparison)
    return value == last_modified


def not_modified(request: web.Request, etag: str, mtime: float) -> bool:
    """Whether the client's cached copy is current (RFC 9110 §13.2.2: a
    present ``If-None-Match`` decides, else ``If-Modified-Since``)."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    since = request.if_modified_since
    return since is not None and int(mtime) <= since.timestamp()


async def resolve_under(root: Path, relative: str) -> Path | None:
    """``root/relative`` with every symbolic link resolved, or ``None`` if
    that leads out of ``root`` (``realpath`` reads links: not on the loop)."""
    try:
        resolved = await asyncio.to_thread(os.path.realpath, root / relative)
    except ValueError:  # an embedded NUL
        return None
    path = Path(resolved)
    return path if root in path.parents else None


def no_wait_opener(path: str, flags: int) -> int:
    # A FIFO under the root would block open() until a writer came.
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


async def serve_file(request: web.Request) -> web.StreamResponse:
    path = await resolve_under(request.app[ROOT], request.match_info["path"])
    if path is None:
        raise web.HTTPNotFound()
    try:
        file = await asyncfile.open(path, "rb", buffering=0, opener=no_wait_opener)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, ValueError):
        raise web.HTTPNotFound() from None  # ValueError: an embedded NUL
    except PermissionError:  # Windows opens no directory: EACCES
        raise web.HTTPNotFound() from None
    async with file:
        info = await file.stat()
        if not stat.S_ISREG(info.st_mode):
            raise web.HTTPNotFound()
        content_type = mimetypes.guess_type(path.name)[0]
        return await send(request, file, info, content_type)


async def send(
    request: web.Request,
    file: asyncfile.FileIO,
    info: os.stat_result,
    content_type: str | None,
) -> web.StreamResponse:
    size = info.st_size
    etag = f'"{info.st_ino:x}-{info.st_mtime_ns:x}-{size:x}"'
    last_modified = email.utils.formatdate(info.st_mtime, usegmt=True)
    validators = {"ETag": etag, "Last-Modified": last_modified}
    if not_modified(request, etag, info.st_mtime):
        return web.Response(status=304, headers=validators)
    headers = {
        **validators,
        "Accept-Ranges": "bytes",
        "Content-Type": content_type or "application/octet-stream",
    }
    start, end, status = 0, size, 200
    header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if (
        header is not None
        and request.method == "GET"
        and (if_range is None or if_range_holds(if_range, etag, last_modified))
    ):
        try:
            wanted = parse_range(header, size)
        except RangeNotSatisfiable:
            raise web.HTTPRequestRangeNotSatisfiable(
                headers={**validators, "Content-Range": f"bytes */{size}"}
            ) from None
        if wanted is not None:
            (start, end), status = wanted, 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = end - start
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    sent = 0
    try:
        async with asyncfile.ChunkReader(
            file, chunk_size=CHUNK, start=start, end=end
        ) as chunks:
            async for chunk in chunks:
                await response.write(chunk)
                sent += len(chunk)
    except ConnectionError:  # aiohttp's ClientConnectionResetError is one
        log.info(
            "%s %s: the client left after %d of %d bytes",
            request.remote,
            request.path,
            sent,
            end - start,
        )
        return response
    await response.write_eof()
    return response


async def ping(request: web.Request) -> web.Response:
    return web.Response(text="pong")


def make_app(root: Path) -> web.Application:
    app = web.Application()
    app[ROOT] = root.resolve()
    app.router.add_get("/files/{path:.+}", serve_file)  # HEAD too
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
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.root, args.host, args.port))
