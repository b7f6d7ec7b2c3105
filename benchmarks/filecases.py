"""File-level work: the ``"file"`` interface, its handle and its case bodies.

A contender of this interface opens files by path, the way an application
does: the built-in ``open()`` on the loop thread (``sync``), or an async
file library whose methods are coroutines (``asyncfile.open``, aiofile,
aiofiles, anyio). :class:`FileHandle` says how; each work below does one
measured pass (open, do the I/O, close) and returns a :class:`Tally` that must
equal the one computed from the file with plain blocking reads.

A timed pass keeps its per-item bookkeeping to a few local-variable updates
(count, size, the last item), the same for every contender, so a table's
ratios are those of the libraries. Before it, an untimed pass through the same
contender checks every item against the blocking reference (and warms the
contender up); a wrong, short or reordered item fails the measurement.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
)
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

KiB = 1024
ENCODING = "utf-8"

AsyncOpen = Callable[[Path, str, "str | None"], AbstractAsyncContextManager[Any]]
"""``open(path, mode, encoding)``: an async context manager of an async file."""


@dataclass(frozen=True)
class FileHandle:
    """A contender's way to open and use files; one of the two is set (neither
    for a handle with only ``respond`` or ``log_handler``).

    ``open``: an async file whose I/O methods are coroutines (``await
    f.read(n)``, ``async for line in f``, ``await f.write(s)``), closed on
    exit. ``blocking``: the built-in ``open``, used on the loop thread (it
    never yields, so the heartbeat shows the whole pass as lag).

    ``chunks``, ``lines`` and ``writer`` replace the plain idiom where a
    library has a faster one of its own (aiofile's ``iter_chunked`` and
    ``LineReader``; its ``Writer`` would go in ``writer``, but ``await
    afp.write(s)`` is as fast): given the open file, each returns what the
    pass iterates or calls.

    ``respond`` (the ``serve`` case): an aiohttp handler body of the
    contender's own, ``respond(request, path)``, instead of streaming chunks.
    ``log_handler`` (the ``log`` case): ``log_handler(path)`` gives a
    ``logging.Handler`` writing to ``path`` and a coroutine function that
    finishes it (everything written, file closed).
    """

    open: AsyncOpen | None = None
    blocking: Callable[..., Any] | None = None
    chunks: Callable[[Any, int], AsyncIterable[bytes]] | None = None
    lines: Callable[[Any], AsyncIterable[str]] | None = None
    writer: Callable[[Any], Callable[[str], Awaitable[object]]] | None = None
    respond: Callable[[Any, Path], Awaitable[Any]] | None = None
    log_handler: Callable[[Path], tuple[Any, Callable[[], Awaitable[None]]]] | None = (
        None
    )

    def opened(self, path: Path, mode: str) -> AbstractAsyncContextManager[Any]:
        """``open(path, mode)`` (UTF-8 in text mode) as an async context."""
        encoding = None if "b" in mode else ENCODING
        if self.open is not None:
            return self.open(path, mode, encoding)
        if self.blocking is not None:
            return _entered(self.blocking(path, mode, encoding=encoding))
        raise TypeError("FileHandle has neither open nor blocking")


@dataclass(frozen=True)
class Tally:
    """What one pass did: items (chunks, lines, writes), their size, the last.

    ``size`` is bytes for binary data and characters for text; after a pass
    of writes, the file's size in bytes.
    """

    items: int
    size: int
    last: bytes | str | None = None


@dataclass(frozen=True)
class ReadChunks:
    """Open ``"rb"``, ``read(block)`` until it returns ``b""``, close."""

    block: int = 64 * KiB
    unit: str = "chunk"

    def describe(self) -> str:
        return f'open "rb", `read({self.block})` to the end, close'

    def expected(self, path: Path, ops: int) -> Tally:
        size = os.stat(path).st_size
        last = b""
        if size:
            last_offset = (size - 1) // self.block * self.block
            with open(path, "rb") as f:
                f.seek(last_offset)
                last = f.read()
        items = -(-size // self.block)
        if items != ops:
            raise ValueError(f"{path} holds {items} blocks, the case wants {ops}")
        return Tally(items, size, last)

    async def run(self, handle: FileHandle, path: Path) -> Tally:
        block = self.block
        items = size = 0
        last = b""
        if handle.blocking is not None:
            with handle.blocking(path, "rb") as f:
                while chunk := f.read(block):
                    items += 1
                    size += len(chunk)
                    last = chunk
        elif handle.chunks is None:
            async with handle.opened(path, "rb") as f:
                while chunk := await f.read(block):
                    items += 1
                    size += len(chunk)
                    last = chunk
        else:
            async with handle.opened(path, "rb") as f:
                async for chunk in handle.chunks(f, block):
                    items += 1
                    size += len(chunk)
                    last = chunk
        return Tally(items, size, last)

    async def verify(self, handle: FileHandle, path: Path) -> None:
        """Every chunk of a pass equals ``os.pread`` at its offset."""
        offset = 0
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            async with contextlib.aclosing(self._chunks(handle, path)) as chunks:
                async for chunk in chunks:
                    expected = os.pread(fd, self.block, offset)
                    if bytes(chunk) != expected:
                        raise AssertionError(
                            f"read({self.block}) at offset {offset} returned "
                            f"{len(chunk)} bytes that differ from os.pread"
                        )
                    offset += len(chunk)
            if offset != os.fstat(fd).st_size:
                raise AssertionError(f"reads stopped at {offset} of {path}")
        finally:
            os.close(fd)

    async def _chunks(
        self, handle: FileHandle, path: Path
    ) -> AsyncGenerator[bytes, None]:
        async with handle.opened(path, "rb") as f:
            if handle.blocking is not None:
                while chunk := f.read(self.block):
                    yield chunk
            elif handle.chunks is None:
                while chunk := await f.read(self.block):
                    yield chunk
            else:
                async for chunk in handle.chunks(f, self.block):
                    yield chunk

    def confirm(self, got: Tally, expected: Tally, path: Path) -> None:
        """Check a timed pass (the data file stays for the next one)."""
        check(got, expected, self.unit)


@dataclass(frozen=True)
class ReadLines:
    """Open ``"r"`` (UTF-8), iterate every line (``async for``), close."""

    unit: str = "line"

    def describe(self) -> str:
        return 'open "r" (UTF-8), `async for line in f` to the end, close'

    def expected(self, path: Path, ops: int) -> Tally:
        items = size = 0
        last = ""
        with open(path, encoding=ENCODING) as f:
            for line in f:
                items += 1
                size += len(line)
                last = line
        if items != ops:
            raise ValueError(f"{path} has {items} lines, the case wants {ops}")
        return Tally(items, size, last)

    async def run(self, handle: FileHandle, path: Path) -> Tally:
        items = size = 0
        last = ""
        if handle.blocking is not None:
            with handle.blocking(path, "r", encoding=ENCODING) as f:
                for line in f:
                    items += 1
                    size += len(line)
                    last = line
        elif handle.lines is None:
            async with handle.opened(path, "r") as f:
                async for line in f:
                    items += 1
                    size += len(line)
                    last = line
        else:
            async with handle.opened(path, "r") as f:
                async for line in handle.lines(f):
                    items += 1
                    size += len(line)
                    last = line
        return Tally(items, size, last)

    async def verify(self, handle: FileHandle, path: Path) -> None:
        """Every line of a pass equals the built-in ``open()``'s, in order."""
        expected = _text_lines(path)
        number = 0
        async with contextlib.aclosing(self._lines(handle, path)) as lines:
            async for line in lines:
                want = expected[number] if number < len(expected) else ""
                number += 1
                if line != want:
                    raise AssertionError(
                        f"line {number} is {line[:40]!r}..., expected {want[:40]!r}..."
                    )
        if number != len(expected):
            raise AssertionError(f"iteration stopped after {number} lines")

    async def _lines(self, handle: FileHandle, path: Path) -> AsyncGenerator[str, None]:
        async with handle.opened(path, "r") as f:
            if handle.blocking is not None:
                for line in f:
                    yield line
            else:
                async for line in f if handle.lines is None else handle.lines(f):
                    yield line

    def confirm(self, got: Tally, expected: Tally, path: Path) -> None:
        """Check a timed pass (the data file stays for the next one)."""
        check(got, expected, self.unit)


WRITTEN = "".join(chr(ord("a") + i % 26) for i in range(59)) + "\n"
"""The str every write of :class:`WriteText` writes: 60 ASCII characters."""


@dataclass(frozen=True)
class WriteText:
    """Open a new file ``"w"`` (UTF-8), write ``count`` times, close.

    The file is the measured path itself (it does not exist before the pass).
    After a pass its size and every byte are checked, then it is deleted, so
    its dirty pages are dropped rather than written back during a later
    measurement.
    """

    count: int
    text: str = WRITTEN
    unit: str = "write"

    def describe(self) -> str:
        size = len(self.text.encode(ENCODING))
        return (
            f'open a new file "w" (UTF-8), `await f.write(s)` {self.count:,} '
            f"times with one {size}-byte str, close; the file's size and bytes "
            "are checked, then it is deleted"
        )

    def expected(self, path: Path, ops: int) -> Tally:
        if ops != self.count:
            raise ValueError(f"the case writes {self.count} times, not {ops}")
        return Tally(self.count, self.count * len(self.text.encode(ENCODING)))

    async def run(self, handle: FileHandle, path: Path) -> Tally:
        text = self.text
        if handle.blocking is not None:
            with handle.blocking(path, "w", encoding=ENCODING) as f:
                for _ in range(self.count):
                    f.write(text)
        elif handle.writer is None:
            async with handle.opened(path, "w") as f:
                for _ in range(self.count):
                    await f.write(text)
        else:
            async with handle.opened(path, "w") as f:
                write = handle.writer(f)
                for _ in range(self.count):
                    await write(text)
        return Tally(self.count, os.stat(path).st_size)

    async def verify(self, handle: FileHandle, path: Path) -> None:
        """A whole pass, whose file must hold exactly the text written."""
        tally = await self.run(handle, path)
        self.confirm(tally, self.expected(path, self.count), path)

    def confirm(self, got: Tally, expected: Tally, path: Path) -> None:
        """Check a pass: the counts, then every byte; then delete the file."""
        try:
            check(got, expected, self.unit)
            if Path(path).read_bytes() != self.text.encode(ENCODING) * self.count:
                raise AssertionError(f"{path} does not hold the text written")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


Handle = TypeVar("Handle", contravariant=True)


class FileWork(Protocol[Handle]):
    """What a file-level case does; :class:`ReadChunks` and its siblings.

    ``Handle`` is what a contender's opener yields for the case's interface:
    a :class:`FileHandle` here, an :class:`~benchmarks.fscases.FsHandle` for
    the filesystem calls.
    """

    @property
    def unit(self) -> str:
        """One operation, singular: ``chunk``, ``line``, ``write``."""
        ...

    def describe(self) -> str:
        """One pass, in a few words, for the table's data note."""
        ...

    def expected(self, path: Path, ops: int) -> Tally:
        """The tally of a correct pass, from plain blocking reads of ``path``.

        ``ops`` is the runner's operation count; raises ``ValueError`` if the
        file cannot give that many.
        """
        ...

    async def run(self, handle: Handle, path: Path) -> Tally:
        """One pass: open, do the I/O, close. This is what is timed."""
        ...

    async def verify(self, handle: Handle, path: Path) -> None:
        """An untimed pass that checks every item; ``AssertionError`` if wrong."""
        ...

    def confirm(self, got: Tally, expected: Tally, path: Path) -> None:
        """Check a timed pass's tally (and what it left behind); clean up."""
        ...


def check(got: Tally, expected: Tally, unit: str) -> None:
    """Raise ``AssertionError`` unless a timed pass did exactly what it should."""
    if got.items != expected.items:
        raise AssertionError(f"{got.items:,} {unit}s, expected {expected.items:,}")
    if got.size != expected.size:
        raise AssertionError(f"{got.size:,} in all, expected {expected.size:,}")
    if got.last != expected.last:
        raise AssertionError(f"the last {unit} differs from the file's")


def _text_lines(path: Path) -> list[str]:
    """Every line of ``path`` as the built-in ``open()`` reads it (UTF-8)."""
    with open(path, encoding=ENCODING) as f:
        return list(f)


@contextlib.asynccontextmanager
async def _entered(f: Any) -> AsyncIterator[Any]:
    """A blocking file as an async context (closed on exit)."""
    with f:
        yield f
