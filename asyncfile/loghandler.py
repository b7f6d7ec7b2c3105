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

The file is opened without ``O_APPEND``: records go at offsets this handler
tracks (from the file's size when opened), so two processes must not log to
the same file through it (``RotatingFileHandler`` has the same limit).

Rotation works as ``logging.handlers.RotatingFileHandler``'s: with
``maxBytes`` and ``backupCount`` both positive, a record that would take the
file to ``maxBytes`` or beyond starts a new file, and the old ones are
renamed ``name.1`` ... ``name.<backupCount>``.  A file never rolls over
empty, and a record is never split between files.  The renames (and the
removal of the oldest file, which frees its blocks and so takes time in
proportion to its size) are made by the drain between two writes, in the
loop's default executor: records emitted meanwhile wait in the buffer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import time
from collections.abc import Callable, Coroutine
from typing import Any

from ._streams_writer import WriteBehindWriter
from .core._positional import OPEN_FLAGS

__all__ = ("AsyncFileHandler",)

DEFAULT_MAX_BUFFER = 16 << 20
THREAD_WAIT = 30.0
"""How long ``flush``/``close`` from another thread wait for a live loop."""


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


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
        self._kick_scheduled = False
        self._writer._on_drained = self._drained

    # -- logging.Handler -------------------------------------------------------

    def handle(self, record: logging.LogRecord) -> Any:
        """Like ``Handler.handle``, without taking the handler's lock: ``emit``
        is thread-safe by itself, so a thread waiting in :meth:`flush` or
        :meth:`close` for the loop (``logging.shutdown()`` holds the lock)
        never stops the loop's own records."""
        result = self.filter(record)
        if result:
            self.emit(result if isinstance(result, logging.LogRecord) else record)
        return result

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
        """Get everything buffered written.

        With no loop running, it is written before this returns; from another
        thread while the handler's loop runs, this waits for that loop to
        write it; on the running loop itself, it only makes sure the loop is
        writing it (waiting there would block the loop: use ``aclose``).
        """
        if not self._wait_for_loop(self._flush_in_loop):
            self._kick()

    def close(self) -> None:
        """Write everything buffered and close the file; idempotent.

        As :meth:`flush`: done before returning when no loop runs or when
        called from another thread than the running loop's; called on the
        running loop, the loop finishes the writes, then closes the file.
        """
        with self.lock or contextlib.nullcontext():
            closing, self._closing = self._closing, True
        if not closing and not self._wait_for_loop(self._close_in_loop):
            self._kick()
            self._drained()
            self._raise_failure()
        super().close()

    async def aclose(self) -> None:
        """Like :meth:`close`, awaited on the loop: returns once every
        record is written and the file is closed, without blocking."""
        with self.lock or contextlib.nullcontext():
            closing, self._closing = self._closing, True
        if not closing:
            await self._close_in_loop()
        super().close()

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
        running = _running_loop()
        bound = self._loop
        if running is not None and (
            bound is None or bound is running or not bound.is_running()
        ):
            self._loop = running
            writer._start_drain()
            return
        if bound is not None and bound.is_running():
            if self._kick_scheduled:
                return  # one wake-up serves every record queued before it runs
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                self._kick_scheduled = True
                bound.call_soon_threadsafe(self._kick_in_loop)
                return
            self._kick_scheduled = False
        writer._drain_blocking()
        self._raise_failure()

    def _kick_in_loop(self) -> None:
        self._kick_scheduled = False
        self._writer._start_drain()

    def _wait_for_loop(self, work: Callable[[], Coroutine[Any, Any, None]]) -> bool:
        """From a thread other than the running loop's, run ``work()`` on the
        handler's loop and wait for it; False if that cannot be done (no
        loop runs, or this is its thread), and the caller does it here.
        """
        loop = self._loop
        if loop is None or not loop.is_running() or _running_loop() is loop:
            return False
        try:
            future = asyncio.run_coroutine_threadsafe(work(), loop)
        except RuntimeError:  # closed meanwhile
            return False
        deadline = time.monotonic() + THREAD_WAIT
        while True:
            try:
                future.result(timeout=0.05)
            except concurrent.futures.TimeoutError:
                if not loop.is_running():
                    future.cancel()
                    return False  # it stopped first: no loop runs, write here
                if time.monotonic() > deadline:
                    future.cancel()
                    return True  # the loop is alive but stuck: leave it to it
                continue
            return True

    async def _flush_in_loop(self) -> None:
        writer = self._writer
        await writer._wait_written(writer._accepted)
        self._raise_failure()

    async def _close_in_loop(self) -> None:
        writer = self._writer
        await writer._wait_written(writer._accepted)
        drainer = writer._drainer
        if drainer is not None and drainer is not asyncio.current_task():
            await asyncio.wait([drainer])  # it closes the file when it ends
        self._drained()
        self._raise_failure()

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

    def _raise_failure(self) -> None:
        error = self._writer._error
        if error is not None and not self._writer._error_raised:
            self._writer._error_raised = True
            raise error

    # -- files ----------------------------------------------------------------

    def _open(self, truncate: bool = False) -> int:
        flags = os.O_WRONLY | os.O_CREAT | OPEN_FLAGS
        if truncate:
            flags |= os.O_TRUNC
        return os.open(self.baseFilename, flags, 0o666)

    def _rollover(self) -> None:
        """Rename the files as RotatingFileHandler does; start a new one.
        Runs as a barrier of the writer (nothing in flight, and in a worker
        thread when a loop drains the writer)."""
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
