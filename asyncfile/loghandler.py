"""AsyncFileHandler: a ``logging`` handler that never blocks the event loop.

``emit`` formats the record, encodes it and appends it to the buffer of a
:class:`~asyncfile.streams.WriteBehindWriter`; the writer's drain task, on the
loop of the thread that emitted, writes the buffer to the file in large
writes.  ``emit`` never awaits and never waits for the disk.

When a record reaches the kernel: in the loop turn after the one it was
emitted in, or, while the previous write is still in progress, in the turn
that write completes (on a healthy disk within a millisecond; on a stalled
one, when the stall ends: that wait is what the loop is spared).  So a
process killed by a signal's default action can lose the records of its
last loop turn or two and those waiting behind an unfinished write; an
orderly exit loses none (below).  ``flush()`` on the loop's own thread
cannot wait without blocking the loop; ``await aflush()`` there.

Where records go when no loop can take them:

- emitted in a thread whose loop is running: that loop writes them;
- emitted in another thread while that loop runs: handed to it
  (``call_soon_threadsafe``);
- emitted, flushed or closed when no loop is running (before ``asyncio.run``,
  after it returned, at ``logging.shutdown()``): written at once, with
  blocking calls, in order after everything buffered before.  There is no
  loop to block then.

Nothing is lost on orderly shutdown: when ``asyncio.run`` cancels the
remaining tasks, the drain task completes the write in progress and
returns; what is still buffered when the loop is gone is written by the
next blocking write, by ``flush()`` or ``close()`` (``logging.shutdown()``
calls both at interpreter exit).  A write whose outcome the closed loop
never reported is finished without writing anything twice.

Overflow: the buffer holds at most ``max_buffer`` bytes.  A record that does
not fit is dropped (``emit`` cannot wait without blocking the loop) and
counted in :attr:`AsyncFileHandler.dropped`; the next record that fits is
preceded by one line saying how many were dropped, so the gap is visible in
the file.

Several processes, one file: the file is opened with ``O_APPEND`` (also
with ``mode="w"``, after the truncation), as ``logging.FileHandler``'s is, so
every write lands at the end of the file as it is then, whatever other
processes, handlers or programs appended meanwhile; a write holds whole
records only, so records of different processes never interleave within a
line (on Linux and a local file system; NFS does not keep ``O_APPEND``
atomic, and on macOS, whose ``pwrite`` ignores ``O_APPEND``, keep one
process per file).  A handler inherited by a forked child
(``multiprocessing``, a pre-forking server) keeps working there: the child
writes its own records through the inherited descriptor, while records the
parent had buffered and not yet written when it forked are written by the
parent only (never twice).  A child forked from inside a running loop
writes its records at once, with blocking calls, until it runs a loop of
its own (the parent's loop does not run in it).

Rotation works as ``logging.handlers.RotatingFileHandler``'s: with
``maxBytes`` and ``backupCount`` both positive, a record that would take the
file to ``maxBytes`` or beyond starts a new file, and the old ones are
renamed ``name.1`` ... ``name.<backupCount>``.  The size that decides is the
file's real size (``fstat``, so other appenders count) plus what this
handler has buffered for it.  A file never rolls over empty, and a record is
never split between files.  The renames (and the removal of the oldest file,
which frees its blocks and so takes time in proportion to its size) are made
by the drain between two writes, in the loop's default executor: records
emitted meanwhile wait in the buffer.  Like ``RotatingFileHandler``, rotation
is not safe with several processes: each process renames the files when its
own view says so, and a process that did not rotate goes on appending to
the renamed file; use one process that owns the file (or a
``QueueHandler`` feeding it) when several rotate.
"""

from __future__ import annotations

import asyncio
import codecs
import concurrent.futures
import contextlib
import logging
import operator
import os
import time
from collections.abc import Callable, Coroutine
from typing import Any

from .core._positional import OPEN_FLAGS
from .io._text import _locale_encoding, _lookup_text_encoding
from .streams import WriteBehindWriter

__all__ = ("AsyncFileHandler",)

DEFAULT_MAX_BUFFER = 16 << 20
THREAD_WAIT = 30.0
"""How long ``flush``/``close`` from another thread wait for a live loop."""


def _index(name: str, value: object) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return operator.index(value)


def _text_encoding(encoding: object) -> str:
    """``encoding`` checked as ``open()`` checks it (``None``: UTF-8)."""
    if encoding is None:
        return "utf-8"
    if not isinstance(encoding, str):
        raise TypeError(
            f"open() argument 'encoding' must be str or None, not "
            f"{type(encoding).__name__}"
        )
    if encoding == "locale":
        return _locale_encoding()
    _lookup_text_encoding(encoding)  # LookupError, as open() raises it
    return encoding


def _check_errors(errors: object) -> None:
    """``errors`` checked as ``open()`` checks it in development mode."""
    if errors is None:
        return
    if not isinstance(errors, str):
        raise TypeError(
            f"open() argument 'errors' must be str or None, not {type(errors).__name__}"
        )
    codecs.lookup_error(errors)  # LookupError: unknown error handler name


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class AsyncFileHandler(logging.Handler):
    """Like ``logging.FileHandler`` (and ``RotatingFileHandler`` with
    ``maxBytes`` and ``backupCount``), with writes behind the event loop;
    see the module's documentation for the guarantees.

    The arguments are ``RotatingFileHandler``'s, in its order, all checked
    here before the file is touched (a bad ``encoding`` raises the
    ``LookupError`` ``open()`` raises); ``mode`` is ``"a"`` or ``"w"``,
    ``encoding=None`` means UTF-8, ``delay=True`` opens the file with the
    first record.  ``max_buffer`` bounds the memory records wait in.
    """

    terminator = "\n"

    def __init__(
        self,
        filename: str | os.PathLike[str],
        mode: str = "a",
        maxBytes: int = 0,
        backupCount: int = 0,
        encoding: str | None = None,
        delay: bool = False,
        errors: str | None = None,
        *,
        max_buffer: int = DEFAULT_MAX_BUFFER,
        level: int = logging.NOTSET,
    ) -> None:
        # Every argument is checked before the file system is touched.
        filename = os.fspath(filename)
        if not isinstance(filename, str):
            raise TypeError(
                "filename must be str or os.PathLike[str], "
                f"not {type(filename).__name__}"
            )
        if not isinstance(mode, str):
            raise TypeError(f"mode must be str, not {type(mode).__name__}")
        if mode not in ("a", "w"):
            raise ValueError(f"mode must be 'a' or 'w', got {mode!r}")
        maxBytes = _index("maxBytes", maxBytes)
        backupCount = _index("backupCount", backupCount)
        max_buffer = _index("max_buffer", max_buffer)
        if max_buffer <= 0:
            raise ValueError(f"max_buffer must be positive, got {max_buffer}")
        encoding = _text_encoding(encoding)
        _check_errors(errors)
        super().__init__(level)
        self.baseFilename = os.path.abspath(filename)
        self.mode = mode
        self.encoding = encoding
        self.errors = errors
        self.maxBytes = maxBytes
        self.backupCount = backupCount
        self.delay = bool(delay)
        self.dropped = 0
        self._unreported_drops = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer = WriteBehindWriter._over_fd(-1, max_buffer)
        # Barriers (the opening, with delay, and rollovers) queued and run:
        # while one waits, the records after it go to a file not made yet.
        self._barriers_queued = 0  # counted by the threads that queue them
        self._barriers_run = 0  # counted by the barriers themselves
        self._bytes_after_barrier = 0
        self._parents_loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._kick_scheduled = False
        self._writer._on_drained = self._drained
        self._writer._on_fork = self._after_fork_in_child
        if not self.delay:
            self._writer._fd = self._open(truncate=mode == "w")

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
        """Get everything buffered written (``logging`` calls it at exit).

        With no loop running, it is written before this returns; from another
        thread while the handler's loop runs, this waits for that loop to
        write it.  Called on the running loop's own thread, it cannot wait
        without blocking the loop: it returns at once, having made sure the
        loop is writing what is buffered (that happens anyway, see the
        module's documentation); ``await`` :meth:`aflush` there instead.
        """
        if not self._wait_for_loop(self._flush_in_loop):
            self._kick()

    async def aflush(self) -> None:
        """Like :meth:`flush`, awaited on the loop: returns once every record
        emitted before the call is written to the file (handed to the
        kernel, as ``FileHandler.flush`` does; no fsync), without blocking
        the loop.  A write error of the handler is raised here."""
        if self._closing:
            return
        self._kick()
        await self._flush_in_loop()

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
        """Queue ``data`` for the current file, after the barrier that opens
        it or a rollover if one is due (``_mutex`` held)."""
        writer = self._writer
        size = len(data)
        if writer._fd < 0 and self._barriers_queued == self._barriers_run:
            self._queue_barrier(self._open_barrier)  # delay: the first record
        elif self.maxBytes > 0 and self.backupCount > 0:
            current = self._current_size()
            if current > 0 and current + size >= self.maxBytes:
                self._queue_barrier(self._rollover)
        writer._append(data)
        self._bytes_after_barrier += size

    def _queue_barrier(self, barrier: Callable[[], None]) -> None:
        self._writer._append(barrier)
        self._barriers_queued += 1
        self._bytes_after_barrier = 0

    def _current_size(self) -> int:
        """The size the current file will have once what is queued for it is
        written: its real size (other processes may append to it too) plus
        what waits here (``_mutex`` held)."""
        if self._barriers_queued != self._barriers_run:
            return self._bytes_after_barrier  # for a file not made yet
        return os.fstat(self._writer._fd).st_size + self._writer.buffered

    def _kick(self) -> None:
        """Get the buffer written: by this thread's loop, by the loop that
        serves the handler (from another thread), or now, if no loop runs."""
        writer = self._writer
        running = _running_loop()
        if running is not None and running is self._parents_loop:
            running = None
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
        if not self._closing or (writer._fd < 0 and not writer._queue):
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
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | OPEN_FLAGS
        if truncate:
            flags |= os.O_TRUNC
        return os.open(self.baseFilename, flags, 0o666)

    def _open_barrier(self) -> None:
        """Open the file for the first record (``delay``); a barrier."""
        self._writer._fd = self._open(truncate=self.mode == "w")
        self._barriers_run += 1

    def _rollover(self) -> None:
        """Rename the files as RotatingFileHandler does; start a new one.
        Runs as a barrier of the writer (nothing in flight, and in a worker
        thread when a loop drains the writer)."""
        writer = self._writer
        fd, writer._fd = writer._fd, -1
        try:
            if fd >= 0:
                os.close(fd)
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
            # Appending, as RotatingFileHandler reopens: another process may
            # have started the new file already.
            writer._fd = self._open()
            # Records go on at the new file's end (O_APPEND would put them
            # there on Linux, but a tracked offset must not leave a hole).
            writer._offset = os.fstat(writer._fd).st_size
        finally:
            self._barriers_run += 1

    def _after_fork_in_child(self) -> None:
        """The writer dropped the parent's queue (its barriers too): this
        child starts with the parent's descriptor and nothing pending."""
        self._loop = None
        # Forked from inside a running loop: that loop's state was copied,
        # but it runs in the parent only.
        self._parents_loop = _running_loop()
        self._kick_scheduled = False
        self._unreported_drops = 0
        self._barriers_queued = self._barriers_run
        self._bytes_after_barrier = 0

    def _stats(self) -> dict[str, Any]:
        """Counters for tests and benchmarks."""
        return {"buffered": self._writer.buffered, "dropped": self.dropped}
