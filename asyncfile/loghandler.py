"""AsyncFileHandler: a ``logging`` handler that never blocks the event loop.

``emit`` formats the record, encodes it and appends it to the buffer of a
:class:`~asyncfile.streams.WriteBehindWriter`; the writer's drain task, on the
loop of the thread that emitted, writes the buffer to the file in large
positional writes.  ``emit`` never awaits and never waits for the disk.

Where records go when no loop can take them:

- emitted in a thread whose loop is running: that loop writes them;
- emitted in another thread while that loop runs: handed to it
  (``call_soon_threadsafe``);
- emitted, flushed or closed when no loop is running (before ``asyncio.run``,
  after it returned, at ``logging.shutdown()``): written at once, with
  blocking calls, in order after everything buffered before.  There is no
  loop to block then.

Nothing is lost on orderly shutdown: when ``asyncio.run`` cancels the
remaining tasks, the drain task writes the buffer to the end before it
returns; what is still buffered when the loop is gone is written by the
next blocking write, by ``flush()`` or ``close()`` (``logging.shutdown()``
calls both at interpreter exit).  Writes go at offsets this handler tracks,
so a write whose outcome the closed loop never reported is finished without
writing anything twice.

Overflow: the buffer holds at most ``max_buffer`` bytes.  A record that does
not fit is dropped (``emit`` cannot wait without blocking the loop) and
counted in :attr:`AsyncFileHandler.dropped`; the next record that fits is
preceded by one line saying how many were dropped, so the gap is visible in
the file.

Rotation works as ``logging.handlers.RotatingFileHandler``'s: with
``maxBytes`` and ``backupCount`` both positive, a record that would take the
file to ``maxBytes`` or beyond starts a new file, and the old ones are
renamed ``name.1`` ... ``name.<backupCount>``.  A file never rolls over
empty, and a record is never split between files.  The renames are done by
the drain between two writes (metadata calls on the loop's thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

from ._streams_writer import WriteBehindWriter

__all__ = ("AsyncFileHandler",)

DEFAULT_MAX_BUFFER = 16 << 20


class AsyncFileHandler(logging.Handler):
    """Like ``logging.FileHandler`` (and ``RotatingFileHandler`` with
    ``maxBytes`` and ``backupCount``), with writes behind the event loop;
    see the module's documentation for the guarantees."""

    terminator = "\n"

    def __init__(
        self,
        filename: str | os.PathLike[str],
        mode: str = "a",
        encoding: str | None = "utf-8",
        errors: str | None = None,
        *,
        maxBytes: int = 0,
        backupCount: int = 0,
        max_buffer: int = DEFAULT_MAX_BUFFER,
        level: int = logging.NOTSET,
    ) -> None:
        if mode not in ("a", "w"):
            raise ValueError(f"mode must be 'a' or 'w', got {mode!r}")
        if max_buffer <= 0:
            raise ValueError(f"max_buffer must be positive, got {max_buffer}")
        super().__init__(level)
        self.baseFilename = os.path.abspath(os.fspath(filename))
        self.mode = mode
        self.encoding = encoding or "utf-8"
        self.errors = errors
        self.maxBytes = maxBytes
        self.backupCount = backupCount
        self.dropped = 0
        self._unreported_drops = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        fd = self._open(truncate=mode == "w")
        self._size = os.fstat(fd).st_size
        self._writer = WriteBehindWriter._over_fd(fd, self._size, max_buffer)
        self._closing = False
        self._writer._on_drained = self._drained

    # -- logging.Handler -------------------------------------------------------

    def emit(self, record: logging.LogRecord) -> None:
        """Buffer the formatted record; never blocks a running loop."""
        try:
            data = (self.format(record) + self.terminator).encode(
                self.encoding, self.errors or "strict"
            )
            if self._closing:
                raise ValueError("I/O operation on closed AsyncFileHandler")
            if self._buffer(data):
                self._kick()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        """Outside a running loop, write everything buffered now; inside
        one, make sure the loop is writing it (``flush`` cannot wait there)."""
        with self.lock or contextlib.nullcontext():
            self._kick()

    def close(self) -> None:
        """Write everything buffered and close the file.

        Outside a running loop this is done before returning; called on a
        running loop, the loop finishes the writes and then closes the file
        (a write may be in flight, and its descriptor must stay open).
        """
        with self.lock or contextlib.nullcontext():
            if not self._closing:
                self._closing = True
                self._kick()
                self._drained()
            super().close()

    async def aclose(self) -> None:
        """Like :meth:`close`, awaited on the loop: returns once every
        record is written and the file is closed, without blocking."""
        writer = self._writer
        with self.lock or contextlib.nullcontext():
            self._kick()
        await writer._wait_written(writer._accepted)
        self.close()
        drainer = writer._drainer
        if drainer is not None:  # it closes the file when it ends
            await asyncio.wait([drainer])

    def __repr__(self) -> str:
        level = logging.getLevelName(self.level)
        return f"<{type(self).__qualname__} {self.baseFilename} ({level})>"

    # -- the buffer ---------------------------------------------------------------

    def _buffer(self, data: bytes) -> bool:
        """Queue ``data`` (and a rollover before it if due); False if dropped."""
        writer = self._writer
        with writer._mutex:
            if writer.buffered + len(data) > writer.buffer_size:
                self.dropped += 1
                self._unreported_drops += 1
                return False
            if self._unreported_drops:
                notice = (
                    f"[asyncfile] {self._unreported_drops} log records dropped: "
                    "the buffer was full\n"
                ).encode()
                self._unreported_drops = 0
                self._queue(notice)
            self._queue(data)
        return True

    def _queue(self, data: bytes) -> None:
        """Queue ``data`` for the current file (``_mutex`` held)."""
        size = len(data)
        if (
            self.maxBytes > 0
            and self.backupCount > 0
            and self._size > 0
            and self._size + size >= self.maxBytes
        ):
            self._writer._append(self._rollover)
            self._size = 0
        self._writer._append(data)
        self._size += size

    def _kick(self) -> None:
        """Get the buffer written: by this thread's loop, by the loop that
        serves the handler (from another thread), or now, if no loop runs."""
        writer = self._writer
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        bound = self._loop
        if running is not None and (
            bound is None or bound is running or not bound.is_running()
        ):
            self._loop = running
            writer._start_drain()
            return
        if bound is not None and bound.is_running():
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                bound.call_soon_threadsafe(self._kick_in_loop)
                return
        writer._drain_blocking()
        self._raise_failure()

    def _kick_in_loop(self) -> None:
        self._writer._start_drain()

    def _drained(self) -> None:
        """The drain stopped: close the file if ``close()`` asked for it and
        nothing is left (a drain still running calls this again)."""
        writer = self._writer
        if not self._closing or writer._fd < 0:
            return
        if writer._drainer is not None and not writer._drainer.done():
            loop = self._loop
            if loop is not None and loop.is_running():
                return  # the drain task calls back when it is done
        writer._drain_blocking()
        with writer._mutex:
            fd, writer._fd = writer._fd, -1
        if fd >= 0:
            os.close(fd)
        self._raise_failure()

    def _raise_failure(self) -> None:
        error = self._writer._error
        if error is not None and not self._writer._error_raised:
            self._writer._error_raised = True
            raise error

    # -- files ----------------------------------------------------------------

    def _open(self, truncate: bool = False) -> int:
        flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC
        if truncate:
            flags |= os.O_TRUNC
        return os.open(self.baseFilename, flags, 0o666)

    def _rollover(self) -> None:
        """Rename the files as RotatingFileHandler does; start a new one.
        Runs as a barrier of the writer (nothing in flight)."""
        writer = self._writer
        os.close(writer._fd)
        writer._fd = -1
        base = self.baseFilename
        for index in range(self.backupCount - 1, 0, -1):
            source = f"{base}.{index}"
            if os.path.exists(source):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(f"{base}.{index + 1}")
                os.rename(source, f"{base}.{index + 1}")
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{base}.1")
        with contextlib.suppress(FileNotFoundError):
            os.rename(base, f"{base}.1")
        writer._fd = self._open(truncate=True)
        writer._offset = 0

    def _stats(self) -> dict[str, Any]:
        """Counters for tests and benchmarks."""
        return {"buffered": self._writer.buffered, "dropped": self.dropped}
