"""The write-behind writer (re-exported by :mod:`asyncfile.streams`).

Accepted data waits in a queue of ``bytes``; one drain task per writer, on the
loop that serves it, joins the queue into large writes, one in flight at a
time.  A write whose outcome its loop never reported (the loop stopped) is
finished later, synchronously, without writing anything twice: that is how
the log handler loses nothing when the loop goes away (``_drain_blocking``).

Where the writes go: in an appending mode (``"ab"``, ``"a+b"``, and the log
handler's files) the descriptor has ``O_APPEND``, so every write lands at the
end of the file as it is when the write runs, whatever other processes or
descriptors appended meanwhile (on Linux, ``pwrite``, Linux AIO and io_uring
writes on an ``O_APPEND`` descriptor append whatever offset they carry); a
queued write is made of whole ``write()`` payloads, so another appender's
data never lands inside one.  Elsewhere (macOS and the BSDs, whose
``pwrite`` honours the offset) an append goes at the end of the file as this
writer knows it: one appender per file there.  In the other modes writes go
at offsets this object tracks, from where the file was when it was opened.

After ``fork()`` the child's writer starts empty: what the parent had
accepted and not written yet is the parent's to write (writing it in the
child too would write it twice), and a write the parent had in flight is
the parent's.  The child keeps the descriptor and writes its own data.

The queue and counters sit under a ``threading.Lock`` so that the log
handler can offer data from any thread; the async API itself is for the
loop's thread.

The queue may also hold barriers: calls (the log handler's rotation) made
between two writes, with nothing in flight.  The drain makes them in the
loop's default executor, never on the loop's thread, since a file-system call
can hold its thread for as long as the kernel needs (removing a file frees
its blocks, a cost that grows with the file's size: see "Timings behind the
code" in ``benchmarks/README.md``), and the writes after a barrier wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import operator
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from .. import file as _file
from ..contexts import get_context, running_loop
from ..core._positional import pwrite
from ..io._cancellation import complete_despite_cancel, runs_to_the_end

if TYPE_CHECKING:
    from typing_extensions import Buffer, Self

    from ..core.asyncio_base import AsyncioContextBase

__all__ = ("FsyncPolicy", "WriteBehindWriter")

DEFAULT_BUFFER_SIZE = 1 << 20
MAX_WRITE = 1 << 20
"""Joined writes stop growing here (half the buffer, if that is less)."""


@dataclass(frozen=True)
class FsyncPolicy:
    """When a :class:`WriteBehindWriter` calls ``fsync``.

    ``on_close``: before the file is closed.  ``every_bytes``: once that many
    bytes were written since the last fsync.  ``every_seconds``: at most that
    long after a write, the data it wrote is fsynced.  The default fsyncs
    never (the data is handed to the kernel, as ``flush()`` does).
    """

    on_close: bool = False
    every_bytes: int | None = None
    every_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.every_bytes is not None and self.every_bytes <= 0:
            raise ValueError(f"every_bytes must be positive, got {self.every_bytes}")
        if self.every_seconds is not None and self.every_seconds <= 0:
            raise ValueError(
                f"every_seconds must be positive, got {self.every_seconds}"
            )

    @classmethod
    def parse(cls, value: FsyncPolicy | Literal["never", "close"]) -> FsyncPolicy:
        """A policy from ``fsync=``: a FsyncPolicy as is, ``"never"`` or
        ``"close"``; anything else raises ``ValueError``."""
        if isinstance(value, FsyncPolicy):
            return value
        if value == "never":
            return cls()
        if value == "close":
            return cls(on_close=True)
        raise ValueError(f"fsync must be 'never', 'close' or a FsyncPolicy: {value!r}")


# A queue item: bytes to write, or a barrier (run with nothing in flight).
Item = bytearray | Callable[[], None]


class WriteBehindWriter:
    """Writes that return at once, written to ``target`` in the background.

    ``target`` is a path, opened with ``mode`` (``"wb"``, ``"ab"``, ``"xb"``,
    ...; closed by :meth:`close`), or an open file object with ``fileno()``
    (borrowed: writing starts at its ``tell()``; it is not closed and its
    position does not move; do not write to it meanwhile).  Every argument
    is checked here, as ``open()`` checks it, before the file is touched.
    In an appending mode every write goes to the end of the file, after
    whatever other processes appended (see the module's documentation).

    Guarantees:

    - :meth:`write` returns as soon as the data is in the buffer; while the
      buffer (``buffer_size`` bytes) is full it waits for room (writes keep
      their order, also across tasks).  Data larger than the buffer waits
      for an empty one.  Memory stays at most ``buffer_size`` besides a
      single larger write.
    - Small writes are joined into writes of up to half the buffer (at most
      1 MiB), copied into place as they come, so a write of the queue never
      costs the loop more than handing one buffer over.
    - A failed background write fails the writer: the data it held and all
      that follows is dropped, the error is raised by every later
      :meth:`write` and :meth:`flush`, and by :meth:`close` if no call
      raised it before.  It is never silently lost.
    - :meth:`flush` returns once every byte reported written before it was
      called has been written to the file (handed to the kernel); it does
      not fsync unless the policy says so.  Cancelling it only stops the
      wait.
    - :meth:`close` writes everything, applies the fsync policy, and closes
      the file; when the calling task is cancelled meanwhile it still runs
      to the end, and the cancellation is delivered afterwards.
    """

    def __init__(
        self,
        target: Any,
        mode: str = "wb",
        *,
        buffer_size: int = DEFAULT_BUFFER_SIZE,
        fsync: FsyncPolicy | Literal["never", "close"] = "never",
        context: AsyncioContextBase | None = None,
    ) -> None:
        buffer_size = operator.index(buffer_size)
        if buffer_size <= 0:
            raise ValueError(f"buffer_size must be positive, got {buffer_size}")
        self._opener: Any = None
        if isinstance(target, str | bytes | os.PathLike):
            # Every check open() makes on its arguments, made now: nothing
            # touches the file system before the arguments are known good.
            self._opener = _file.open(target, mode, buffering=0)
            _check_binary_write_mode(mode)
        elif target is not None:  # a borrowed file: its own mode applies
            fileno = getattr(target, "fileno", None)
            if fileno is None or isinstance(target, int | bool):
                raise TypeError(
                    "expected a path or an open file object, got "
                    f"{type(target).__name__}"
                )
        self.fsync_policy = FsyncPolicy.parse(fsync)
        self._target = target
        self._mode = mode
        self._appending = isinstance(mode, str) and "a" in mode
        self.buffer_size = buffer_size
        self._context = context
        self._mutex = threading.Lock()
        # Held while a barrier runs in a worker thread: a blocking drain (its
        # loop stopped meanwhile) waits for it rather than racing it, and
        # makes it itself if the thread never started it (``_unstarted``).
        self._barrier_lock = threading.Lock()
        self._unstarted: list[Callable[[], None]] = []
        self._queue: deque[Item] = deque()
        self._queued = 0  # bytes in the queue
        self._in_flight: tuple[int, bytearray] | None = None
        # The core call writing (part of) it, and how much of it the calls
        # before that one wrote: what a blocking drain needs to finish it.
        self._in_flight_call: _Watched | None = None
        self._in_flight_done = 0
        self._held_cancel: BaseException | None = None
        self._segment = max(1, min(buffer_size // 2, MAX_WRITE))
        self._offset = 0  # where the next write goes
        self._accepted = 0  # bytes ever accepted
        self._written = 0  # bytes ever written
        self._unsynced = 0
        self._last_sync = time.monotonic()
        self._fd = -1
        self._opening: asyncio.Future[None] | None = None
        self._file: Any = None  # what close() closes (a file opened here)
        self._error: BaseException | None = None
        self._error_raised = False
        self._closing = False
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drainer: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self._room_waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._flush_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._on_drained: Callable[[], None] | None = None  # for the log handler
        self._on_fork: Callable[[], None] | None = None  # the same
        _writers.add(self)

    @classmethod
    def _over_fd(cls, fd: int, buffer_size: int) -> WriteBehindWriter:
        """A writer appending to a descriptor opened with ``O_APPEND`` (or
        ``-1``: set ``_fd`` before the first write), which it does not close
        (the log handler owns it)."""
        writer = cls(None, "ab", buffer_size=buffer_size)
        writer._fd = fd
        return writer

    def _after_fork_in_child(self) -> None:
        """Start empty: the parent writes what it had accepted (see the
        module's documentation).  Fresh locks, since a thread of the parent
        may have held them at the fork."""
        self._mutex = threading.Lock()
        self._barrier_lock = threading.Lock()
        self._unstarted = []
        self._queue = deque()
        self._queued = 0
        self._in_flight = None
        self._in_flight_call = None
        self._accepted = self._written
        self._loop = None
        self._drainer = None
        self._wakeup = None
        self._room_waiters = deque()
        self._flush_waiters = []
        self._opening = None
        if self._on_fork is not None:
            self._on_fork()

    # -- public ---------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def buffered(self) -> int:
        """Bytes reported written that are not in the file yet."""
        return self._accepted - self._written

    @property
    def written(self) -> int:
        """Bytes written to the file so far."""
        return self._written

    async def open(self) -> Self:
        """Open the target (done by the first write, or ``async with``)."""
        if self._fd < 0:
            if self._closed or self._closing:
                raise ValueError("I/O operation on closed WriteBehindWriter")
            await self._ensure_open()
        return self

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def write(self, data: Buffer) -> int:
        """Buffer ``data`` (copied) and return its length; wait only while
        the buffer is full.  See the class for the guarantees."""
        self._check_writable()
        if self._fd < 0:
            await self._ensure_open()
        payload = data if isinstance(data, bytes) else bytes(data)
        size = len(payload)
        if not size:
            return 0
        if self._room_waiters or (
            self.buffered and self.buffered + size > self.buffer_size
        ):
            await self._wait_for_room(size)
            self._check_writable()
        with self._mutex:
            self._append(payload)
        self._start_drain()
        return size

    async def flush(self) -> None:
        """Return once everything reported written so far is in the file."""
        self._raise_error()
        if self._closed:
            raise ValueError("I/O operation on closed WriteBehindWriter")
        await self._wait_written(self._accepted)
        self._raise_error()

    @runs_to_the_end
    async def close(self) -> None:
        """Write everything, fsync if the policy says so, close; idempotent.

        Runs to the end even if the caller is cancelled meanwhile.
        """
        if self._closed or self._closing:
            if self._closed:
                self._raise_unreported()
            return
        self._closing = True
        await complete_despite_cancel(self._finish())

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"buffered={self.buffered}"
        return (
            f"<{type(self).__module__}.{type(self).__qualname__} "
            f"{self._target!r} {state}>"
        )

    def _core(self) -> Any:
        return self._context if self._context is not None else get_context()

    # -- opening and closing --------------------------------------------------

    async def _ensure_open(self) -> None:
        """Open once, also when several tasks write first at the same time;
        a cancelled caller does not cancel the opening (another may wait)."""
        running_loop()
        opening = self._opening
        if opening is None or (opening.done() and opening.exception() is not None):
            opening = self._opening = asyncio.ensure_future(self._open())
        await asyncio.shield(opening)

    async def _open(self) -> None:
        target = self._target
        if isinstance(target, str | bytes | os.PathLike):
            # The opener made (and checked) by the constructor; a new one if
            # that one failed and this is another try.
            opener, self._opener = self._opener, None
            if opener is None:
                opener = _file.open(target, self._mode, buffering=0)
            raw = await opener
            self._adopt(raw.fileno(), raw)
            if self._appending:
                self._offset = os.fstat(self._fd).st_size
        else:
            fileno = target.fileno
            self._appending = _appends(fileno())
            flush = getattr(target, "flush", None)
            if flush is not None:
                result = flush()
                if asyncio.iscoroutine(result):
                    await result
            self._adopt(fileno(), None)
            self._offset = target.tell()

    def _adopt(self, fd: int, file: Any) -> None:
        self._fd = fd
        self._file = file

    async def _finish(self) -> None:
        try:
            if self._opening is not None and not self._opening.done():
                await asyncio.wait([self._opening])
            if self._fd >= 0:
                await self._wait_written(self._accepted)
                if self._error is None and self.fsync_policy.on_close:
                    await self._core().fsync(self._fd)
        except Exception as exc:
            self._fail(exc)
        finally:
            self._closed = True
            file, self._file = self._file, None
            self._fd = -1
            if file is not None:
                await file.close()
        self._raise_unreported()

    # -- errors ---------------------------------------------------------------

    def _check_writable(self) -> None:
        self._raise_error()
        if self._closed or self._closing:
            raise ValueError("I/O operation on closed WriteBehindWriter")

    def _raise_error(self) -> None:
        if self._error is not None:
            self._error_raised = True
            raise self._error

    def _raise_unreported(self) -> None:
        if self._error is not None and not self._error_raised:
            self._raise_error()

    def _fail(self, exc: BaseException, written: int = 0) -> None:
        """Fail the writer: drop what is not written, wake every waiter.
        ``written``: how much of the write in flight reached the file."""
        with self._mutex:
            if self._error is None:
                self._error = exc
            self._queue.clear()
            self._accepted -= self._queued
            self._queued = 0
            if self._in_flight is not None:
                self._accepted -= len(self._in_flight[1]) - written
                self._written += written
                self._in_flight = None
        self._wake_waiters()

    # -- the queue (thread-safe parts) ----------------------------------------

    def _append(self, item: bytes | Callable[[], None]) -> None:
        """Queue data or a barrier; the caller holds ``_mutex``.

        Data is copied onto the end of the last segment while that stays
        under the write size, so taking a write off the queue is O(1)
        however small the writes were.
        """
        queue = self._queue
        if not isinstance(item, bytes):
            queue.append(item)
            return
        size = len(item)
        last = queue[-1] if queue else None
        if isinstance(last, bytearray) and len(last) + size <= self._segment:
            last += item
        else:
            queue.append(bytearray(item))
        self._queued += size
        self._accepted += size

    def _take(self) -> tuple[int, bytearray] | Callable[[], None] | None:
        """The next job: a barrier, or (offset, data) now in flight; ``None``
        if the queue is empty.  Holds ``_mutex``."""
        queue = self._queue
        if not queue:
            return None
        item = queue.popleft()
        if not isinstance(item, bytearray):
            return item
        size = len(item)
        self._queued -= size
        self._in_flight_call, self._in_flight_done = None, 0
        self._in_flight = (self._offset, item)
        self._offset += size
        return self._in_flight

    def _completed(self, job: tuple[int, bytearray]) -> None:
        """``job`` is in the file (unless the blocking drain did it first)."""
        with self._mutex:
            if self._in_flight is job:
                self._in_flight = None
                self._written += len(job[1])
                self._unsynced += len(job[1])

    def _drain_blocking(self) -> None:
        """Write the queue now with blocking calls, for when no loop will.

        A write still in flight (its loop stopped) is finished first (see
        :meth:`_finish_stale_write`).  Barriers run in order.  An error fails
        the writer (and is raised later, as a background error would be).
        """
        error: Exception | None = None
        progress = [0]
        with self._barrier_lock, self._mutex:
            if self._error is not None or (self._fd < 0 and not self._queue):
                return  # a barrier queued first may open the file
            loop = self._loop
            if (
                self._in_flight is not None
                and self._drainer is not None
                and loop is not None
                and loop.is_running()
            ):
                # A live loop's drain has a write under way: one written here
                # could land before it (an O_APPEND write goes to the end,
                # whatever offset it was given), so that drain writes the rest.
                handed_to = loop
            else:
                handed_to = None
            try:
                if handed_to is not None:
                    with contextlib.suppress(RuntimeError):  # closed meanwhile
                        handed_to.call_soon_threadsafe(self._start_drain)
                        return
                while self._unstarted:
                    self._unstarted.pop()()
                self._finish_stale_write()
                while (item := self._take()) is not None:
                    if isinstance(item, tuple):
                        progress[0] = 0
                        _pwrite_all(self._fd, item[1], item[0], progress)
                        self._in_flight = None
                        self._written += len(item[1])
                    else:
                        item()
            except Exception as exc:
                error = exc
        if error is not None:
            self._fail(error, written=progress[0])

    def _finish_stale_write(self) -> None:
        """Finish a write whose outcome never arrived (its loop went away)
        without writing anything twice.  Holds ``_mutex``.

        At a tracked offset, the file's size tells what of it is there.  An
        append's count comes from the core call, which the closing of its
        loop's context settles; a call still unsettled (its loop stopped,
        not closed) is in the kernel's or the pool's hands, and counts as
        written.
        """
        job = self._in_flight
        if job is None:
            return
        offset, data = job
        if not self._appending:
            have = max(0, min(len(data), os.fstat(self._fd).st_size - offset))
        else:
            have = self._in_flight_done  # no call started: what the last ones wrote
            call = self._in_flight_call
            if call is not None:
                count = call.settled_count()
                have = len(data) if count is None else min(len(data), have + count)
        _pwrite_all(self._fd, data[have:], offset + have)
        self._in_flight = None
        self._in_flight_call = None
        self._written += len(data)
        self._unsynced += len(data)

    # -- the drain task -------------------------------------------------------

    def _start_drain(self) -> None:
        """Make sure the drain task runs (call in the serving loop's thread)."""
        loop = asyncio.get_running_loop()
        if self._drainer is not None and self._loop is not loop:
            # Its loop stopped or closed: that task will not run again.
            self._drainer = None
        if self._drainer is not None:
            wakeup = self._wakeup
            if wakeup is not None and not wakeup.done():
                wakeup.set_result(None)
            return
        self._loop = loop
        self._drainer = loop.create_task(self._drain())

    async def _drain(self) -> None:
        """Write the queue until it is empty; cancellation does not stop it."""
        try:
            context = self._core()
            while True:
                with self._mutex:
                    if self._error is not None:
                        return
                    self._finish_stale_write()
                    job = self._take()
                if job is None:
                    if not await self._idle(context):
                        return
                    continue
                progress = [0]
                try:
                    if isinstance(job, tuple):
                        # Awaited here, not in a task of its own: a record
                        # reaches the kernel in the loop turn the drain takes
                        # it, and the next write starts in the turn this one
                        # completes.
                        self._held_cancel = None
                        await self._write_all(context, job, progress)
                        self._completed(job)
                        self._wake_waiters()
                        if self._held_cancel is not None:
                            return  # the loop is going away
                        await self._sync_if_due(context)
                    else:
                        # Noted before the coroutine starts: if the loop goes
                        # away first, the blocking drain makes the barrier.
                        self._unstarted.append(job)
                        await complete_despite_cancel(self._run_unstarted_barrier())
                except asyncio.CancelledError:
                    return  # the loop is going away: the write stays in flight
                except Exception as exc:
                    self._fail(exc, written=progress[0])
                    return
        finally:
            if self._drainer is asyncio.current_task():
                self._drainer = None
            self._wake_waiters()
            if self._on_drained is not None:
                self._on_drained()

    async def _write_all(
        self, context: Any, job: tuple[int, bytearray], progress: list[int]
    ) -> None:
        """Write all of ``job`` (the core reports short counts);
        ``progress[0]`` says how much is written, also when this raises."""
        offset, data = job
        view = memoryview(data)
        while progress[0] < len(data):
            done = progress[0]
            count = await self._write_once(context, view[done:], offset + done, done)
            if count <= 0:
                raise OSError(f"write of {len(data) - done} bytes wrote {count}")
            progress[0] = done + count

    async def _write_once(
        self, context: Any, payload: memoryview, offset: int, done: int
    ) -> int:
        """One core write that a cancellation of this task does not stop
        (the loop's shutdown cancels every task): its count is returned,
        and is kept where a blocking drain finds it if the task never
        resumes.  A cancellation that arrived meanwhile is kept in
        ``_held_cancel`` for the drain to obey once the write is counted."""
        call = context.write(payload, self._fd, offset)
        despite_cancel = getattr(call, "despite_cancel", None)
        if despite_cancel is not None:
            call = despite_cancel()
            watched = _Watched(call)
            self._in_flight_call, self._in_flight_done = watched, done
            count: int = await watched
            self._held_cancel = self._held_cancel or call.deferred_cancel
        else:
            # A context of Python operations: the operation itself tells
            # whether it ran, also once nobody awaits it any more.
            call.close()
            operation = context.OPERATION_CLASS.write(payload, self._fd, offset)
            future = asyncio.ensure_future(context.submit(operation))
            self._in_flight_call = _Watched.of_operation(operation)
            self._in_flight_done = done
            while True:
                try:
                    count = await asyncio.shield(future)
                    break
                except asyncio.CancelledError as cancellation:
                    if future.cancelled():
                        raise
                    self._held_cancel = self._held_cancel or cancellation
        self._in_flight_call = None
        self._in_flight_done = done + count
        return count

    async def _run_unstarted_barrier(self) -> None:
        """Make the barrier noted in ``_unstarted`` in a worker thread (on
        this thread if the loop has no executor left), holding
        ``_barrier_lock``.  If the loop goes away before the thread starts
        it, the blocking drain makes it."""
        unstarted = self._unstarted

        def run() -> None:
            with self._barrier_lock:
                if unstarted:
                    unstarted.pop()()

        try:
            future = asyncio.get_running_loop().run_in_executor(None, run)
        except RuntimeError:  # the default executor is shut down
            run()
            return
        await future

    async def _idle(self, context: Any) -> bool:
        """Nothing to write: wait for a timed fsync that is due, if any.

        Returns whether to go on draining (new data arrived meanwhile).
        """
        every = self.fsync_policy.every_seconds
        if every is None or not self._unsynced or self._closed:
            return False
        loop = asyncio.get_running_loop()
        self._wakeup = wakeup = loop.create_future()
        delay = self._last_sync + every - time.monotonic()
        timer = loop.call_later(max(0.0, delay), _resolve, wakeup)
        try:
            await wakeup
        except asyncio.CancelledError:
            pass
        finally:
            timer.cancel()
            self._wakeup = None
        if self._queue:
            return True
        await self._sync(context)
        return bool(self._queue)

    async def _sync_if_due(self, context: Any) -> None:
        policy = self.fsync_policy
        due = (
            policy.every_bytes is not None and self._unsynced >= policy.every_bytes
        ) or (
            policy.every_seconds is not None
            and time.monotonic() - self._last_sync >= policy.every_seconds
        )
        if due:
            await self._sync(context)

    async def _sync(self, context: Any) -> None:
        self._unsynced = 0
        self._last_sync = time.monotonic()
        await complete_despite_cancel(context.fsync(self._fd))

    # -- waiting --------------------------------------------------------------

    async def _wait_for_room(self, size: int) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._room_waiters.append((size, waiter))
        self._start_drain()
        try:
            await waiter
        finally:
            if self._room_waiters and self._room_waiters[0][1] is waiter:
                self._room_waiters.popleft()
            elif any(w is waiter for _, w in self._room_waiters):
                self._room_waiters.remove((size, waiter))
            self._wake_waiters()

    async def _wait_written(self, target: int) -> None:
        if self._written >= target or self._error is not None:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._flush_waiters.append((target, waiter))
        self._start_drain()
        try:
            await waiter
        finally:
            if (target, waiter) in self._flush_waiters:
                self._flush_waiters.remove((target, waiter))

    def _wake_waiters(self) -> None:
        """Wake flushes that are done, and writes that now fit (in order)."""
        failed = self._error is not None
        for target, waiter in list(self._flush_waiters):
            if (failed or self._written >= target) and not waiter.done():
                waiter.set_result(None)
        if self._room_waiters:
            size, waiter = self._room_waiters[0]
            buffered = self.buffered
            fits = failed or not buffered or buffered + size <= self.buffer_size
            if fits and not waiter.done():
                waiter.set_result(None)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _Watched(Generator[Any, Any, int]):
    """Awaits a core call, keeping the future it waits on, so that its count
    can be read once that future is settled even if the awaiting task never
    runs again (its loop stopped and closed its context)."""

    __slots__ = ("_call", "_operation", "_waiting")

    def __init__(self, call: Any) -> None:
        self._call = call
        self._waiting: Any = None
        self._operation: Any = None

    @classmethod
    def of_operation(cls, operation: Any) -> _Watched:
        """One that only reports ``operation``'s count (it is not awaited)."""
        watched = cls(None)
        watched._operation = operation
        return watched

    def __await__(self) -> Generator[Any, Any, int]:
        return self

    def send(self, value: Any) -> Any:
        self._waiting = self._call.send(value)
        return self._waiting

    def throw(self, *args: Any) -> Any:
        self._waiting = self._call.throw(*args)
        return self._waiting

    def close(self) -> None:
        self._call.close()

    def settled_count(self) -> int | None:
        """What the write wrote, if its future (or operation) says so by now."""
        if self._operation is not None:
            try:
                value = self._operation.get_value()
            except RuntimeError:  # still in flight: it runs to its end
                return None
            except OSError:  # cancelled before it ran, or failed
                return 0
            return value if isinstance(value, int) else None
        waiting = self._waiting
        if waiting is None or not waiting.done() or waiting.cancelled():
            return None
        if waiting.exception() is not None:
            return 0
        result = waiting.result()
        return result if isinstance(result, int) else None


_writers: weakref.WeakSet[WriteBehindWriter] = weakref.WeakSet()


def _forget_parent_work() -> None:
    for writer in list(_writers):
        writer._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parent_work)


def _appends(fd: int) -> bool:
    """Whether ``fd`` was opened with ``O_APPEND``."""
    append = getattr(os, "O_APPEND", 0)
    try:
        import fcntl
    except ImportError:  # Windows: no such flag to read
        return False
    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & append)


def _check_binary_write_mode(mode: str) -> None:
    """After open()'s own checks: the writer takes bytes and writes."""
    if "b" not in mode:
        suggestion = mode.replace("t", "") + "b"
        raise ValueError(
            f"a WriteBehindWriter writes bytes: mode {mode!r} is a text mode "
            f"(use {suggestion!r})"
        )
    if "r" in mode and "+" not in mode:
        raise ValueError(f"mode {mode!r} does not write")


def _pwrite_all(
    fd: int,
    data: bytearray | memoryview,
    offset: int,
    progress: list[int] | None = None,
) -> None:
    """Blocking ``_write_all``: ``progress[0]`` counts what is written."""
    view = memoryview(data)
    while view:
        count = pwrite(fd, view, offset)
        view = view[count:]
        offset += count
        if progress is not None:
            progress[0] += count
