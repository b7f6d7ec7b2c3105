"""python_aio: the pure-Python backend.

Operations run on a small pool of Python threads calling ``os.pread``, ``os.pwrite``,
``os.fsync`` and ``os.fdatasync`` (on Windows, ``ReadFile``/``WriteFile`` at an
offset: see ``_positional``).  It is the backend of last resort (no compiler, no
Linux) and Windows' backend, and the reference the native backends are tested
against.
"""

from __future__ import annotations

import atexit
import enum
import functools
import os
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import _positional
from .abstract import AbstractContext, AbstractOperation
from .buffers import (
    OFFSET_CURRENT,
    aligned_buffer,
    byte_view,
    check_fd,
    check_offset,
    check_size,
)
from .errors import AIOError, QueueFullError, cancelled_error, error_from_oserror

if TYPE_CHECKING:
    from typing_extensions import Buffer, Self

__all__ = ("Context", "Operation")


class OpCode(enum.IntEnum):
    READ = 0
    WRITE = 1
    FSYNC = 2
    FDSYNC = 3
    READINTO = 4


class _State(enum.Enum):
    NEW = "new"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


class Operation(AbstractOperation):
    """An operation for the python_aio backend."""

    __slots__ = (
        "__weakref__",
        "_buffer",
        "_callback",
        "_exception",
        "_fd",
        "_nbytes",
        "_offset",
        "_opcode",
        "_priority",
        "_result",
        "_state",
        "_value",
    )

    def __init__(
        self,
        opcode: OpCode,
        fd: int,
        offset: int = 0,
        nbytes: int = 0,
        buffer: memoryview | None = None,
        priority: int = 0,
    ) -> None:
        self._opcode = opcode
        self._fd = check_fd(fd)
        self._offset = check_offset(offset)
        self._nbytes = check_size(nbytes)
        self._priority = int(priority)
        self._buffer = buffer
        self._callback: Callable[[int], Any] | None = None
        self._state = _State.NEW
        self._result = 0
        self._exception: BaseException | None = None
        self._value: bytes | None = None

    @classmethod
    def read(cls, nbytes: int, fd: int, offset: int = 0, priority: int = 0) -> Self:
        return cls(OpCode.READ, fd, offset, nbytes, priority=priority)

    @classmethod
    def readinto(
        cls, buffer: Buffer, fd: int, offset: int = 0, priority: int = 0
    ) -> Self:
        view = byte_view(buffer, writable=True)
        return cls(OpCode.READINTO, fd, offset, view.nbytes, view, priority)

    @classmethod
    def write(
        cls, payload_bytes: Buffer, fd: int, offset: int = 0, priority: int = 0
    ) -> Self:
        view = byte_view(payload_bytes)
        return cls(OpCode.WRITE, fd, offset, view.nbytes, view, priority)

    @classmethod
    def fsync(cls, fd: int, priority: int = 0) -> Self:
        return cls(OpCode.FSYNC, fd, priority=priority)

    @classmethod
    def fdsync(cls, fd: int, priority: int = 0) -> Self:
        return cls(OpCode.FDSYNC, fd, priority=priority)

    def get_value(self) -> bytes | int | None:
        if self._state in (_State.QUEUED, _State.RUNNING):
            raise RuntimeError("the operation is still in flight")
        if self._exception is not None:
            raise self._exception
        if self._opcode is OpCode.READ:
            return self._value if self._value is not None else b""
        if self._opcode in (OpCode.FSYNC, OpCode.FDSYNC):
            return None
        return self._result

    def set_callback(self, callback: Callable[[int], Any]) -> bool:
        if not callable(callback):
            raise ValueError(f"callback must be callable, got {callback!r}")
        self._callback = callback
        return True

    @property
    def fileno(self) -> int:
        return self._fd

    @property
    def offset(self) -> int:
        return self._offset

    @property
    def nbytes(self) -> int:
        return self._nbytes

    @property
    def payload(self) -> bytes | memoryview | None:
        if self._opcode is OpCode.READ:
            return self._value if self._value is not None else b""
        return self._buffer

    @property
    def result(self) -> int:
        return self._result

    @property
    def error(self) -> int:
        if isinstance(self._exception, OSError):
            return self._exception.errno or 0
        return 0

    @property
    def written(self) -> int:
        """The count transferred so far (caio's python backend name for it)."""
        return self._result

    def __repr__(self) -> str:
        return (
            f"<{type(self).__qualname__} {self._opcode.name.lower()} fd={self._fd} "
            f"offset={self._offset} nbytes={self._nbytes} {self._state.value}>"
        )

    def _perform(self, stopping: Callable[[], bool] = bool) -> None:
        """Run the system calls; called on a worker thread.  A transfer at the
        current position first waits until the descriptor is ready, giving up
        with ``ECANCELED`` once ``stopping()`` is true."""
        fd, offset = self._fd, self._offset
        if offset == OFFSET_CURRENT and self._opcode not in _SYNCS:
            self._perform_at_position(stopping)
        elif self._opcode is OpCode.READ:
            self._value = _pread_exactly(fd, self._nbytes, offset)
            self._result = len(self._value)
        elif self._opcode is OpCode.READINTO:
            assert self._buffer is not None
            self._result = _preadinto_exactly(fd, self._buffer, offset)
        elif self._opcode is OpCode.WRITE:
            assert self._buffer is not None
            self._result = _pwrite_exactly(fd, self._buffer, offset)
        elif self._opcode is OpCode.FSYNC:
            _positional.fsync(fd)
        else:
            _positional.fdatasync(fd)

    def _perform_at_position(self, stopping: Callable[[], bool]) -> None:
        """``read(2)`` or ``write(2)`` at the descriptor's position: a read
        gives what a pipe holds once it holds something; a write writes all."""
        fd = self._fd
        writing = self._opcode is OpCode.WRITE
        _wait_until_ready(fd, writing, stopping)
        if self._opcode is OpCode.READ:
            self._value = os.read(fd, self._nbytes)
            self._result = len(self._value)
        elif self._opcode is OpCode.READINTO:
            assert self._buffer is not None
            self._result = _readinto_at_position(fd, self._buffer)
        else:
            assert self._buffer is not None
            done = 0
            while done < self._buffer.nbytes:
                with self._buffer[done:] as part:
                    done += os.write(fd, part)
            self._result = done

    def _complete(self, exception: BaseException | None) -> None:
        """Record the outcome and call the callback once, with ``result`` or -errno."""
        if (
            isinstance(exception, OSError)
            and exception.errno
            and not isinstance(exception, AIOError)
        ):
            exception = error_from_oserror(exception, self._fd)
        self._exception = exception
        self._state = _State.DONE
        callback, self._callback = self._callback, None
        if callback is None:
            return
        try:
            callback(-self.error if exception is not None else self._result)
        except BaseException:
            threading.excepthook(
                threading.ExceptHookArgs((*sys.exc_info(), threading.current_thread()))
            )


_SYNCS = (OpCode.FSYNC, OpCode.FDSYNC)

#: How often a worker waiting for a pipe looks whether its pool is closing.
_READY_POLL_SECONDS = 0.05


def _wait_until_ready(fd: int, writing: bool, stopping: Callable[[], bool]) -> None:
    """Wait until a transfer at ``fd``'s position would not block, so that a
    closing pool never waits for a pipe nobody writes (``ECANCELED`` then).
    Windows cannot wait for a pipe without reading it: there the transfer
    itself waits."""
    if sys.platform == "win32":
        return
    import select

    poller = select.poll()
    poller.register(fd, select.POLLOUT if writing else select.POLLIN)
    while not poller.poll(_READY_POLL_SECONDS * 1000):
        if stopping():
            raise cancelled_error(fd)


if hasattr(os, "readv"):

    def _readinto_at_position(fd: int, view: memoryview) -> int:
        return os.readv(fd, [view])

else:  # Windows

    def _readinto_at_position(fd: int, view: memoryview) -> int:
        data = os.read(fd, view.nbytes)
        view[: len(data)] = data
        return len(data)


#: A large buffered read goes in steps of this size, as on the native pool: a
#: kernel without full preemption cannot take the CPU from one long copy, and
#: a worker sharing the loop's CPU would hold the loop off for all of it.
_READ_STEP = 128 * 1024

#: The device is asked for this much of a stepped read at once, so that the
#: steps do not turn one device request into several.
_READ_ADVICE_WINDOW = 8 * 1024 * 1024


_is_direct = _positional.is_direct


def _offer_cpu() -> None:
    """Let a thread waiting for this CPU (the loop's) run before going on.

    The scheduler lets the running thread finish its slice before a woken
    one gets the CPU; yielding between steps bounds the loop's wait by one
    step. It returns at once when nothing else waits.
    """
    _positional.yield_cpu()


def _read_ahead(fd: int, offset: int, nbytes: int) -> None:
    """Start the device reading the next window of a stepped read, a step at
    a time: one call for the whole window queues all its pages without a
    break, and the queue holds the whole window anyway before the first step.
    """
    window = min(nbytes, _READ_ADVICE_WINDOW)
    for advised in range(0, window, _READ_STEP):
        length = min(_READ_STEP, window - advised)
        if not _positional.advise_willneed(fd, offset + advised, length):
            return  # advice only: the steps read anyway, and the rest would fail too
        _offer_cpu()


def _pread_exactly(fd: int, nbytes: int, offset: int) -> bytes:
    """Read ``nbytes`` or up to end of file: one call caps below 2 GiB, so loop."""
    if nbytes > 0 and _is_direct(fd):
        # O_DIRECT reads into aligned memory only, which bytes objects are not.
        with aligned_buffer(nbytes) as bounce:
            with memoryview(bounce) as view:
                count = _preadinto_exactly(fd, view, offset, direct=True)
            return bounce[:count]
    step = min(nbytes, _READ_STEP)
    chunks: list[bytes] = []
    done = advised_until = 0
    while done < nbytes:
        if step < nbytes and done >= advised_until:
            _read_ahead(fd, offset + done, nbytes - done)
            advised_until = done + _READ_ADVICE_WINDOW
        try:
            chunk = _positional.pread(fd, min(step, nbytes - done), offset + done)
        except OSError:
            if not chunks:
                raise
            break  # what was read before the error is the result, as read(2)'s
        if not chunk:
            break
        chunks.append(chunk)
        done += len(chunk)
        if step < nbytes and done < nbytes:
            _offer_cpu()
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _preadinto_exactly(
    fd: int, view: memoryview, offset: int, direct: bool | None = None
) -> int:
    """Fill ``view`` or up to end of file; ``direct`` says whether ``fd`` has
    ``O_DIRECT`` (None: ask, if it matters)."""
    nbytes = view.nbytes
    stepped = nbytes > _READ_STEP and not (_is_direct(fd) if direct is None else direct)
    step = _READ_STEP if stepped else nbytes
    done = advised_until = 0
    while done < nbytes:
        if stepped and done >= advised_until:
            _read_ahead(fd, offset + done, nbytes - done)
            advised_until = done + _READ_ADVICE_WINDOW
        try:
            # Released here, not by the traceback that may hold it: the caller
            # may close the buffer (an mmap) as soon as this returns.
            with view[done : done + step] as part:
                count = _positional.preadinto(fd, part, offset + done)
        except OSError:
            if done == 0:
                raise
            break  # what was read before the error is the result, as read(2)'s
        if count == 0:
            break
        done += count
        if stepped and done < nbytes:
            _offer_cpu()
    return done


def _pwrite_exactly(fd: int, view: memoryview, offset: int) -> int:
    done = 0
    while done < view.nbytes:
        try:
            with view[done:] as part:
                count = _positional.pwrite(fd, part, offset + done)
        except OSError:
            if done == 0:
                raise
            break  # a short write, as write(2) reports it: ENOSPC comes next time
        if count == 0:
            break
        done += count
    return done


class _WorkerPool:
    """Threads that run queued operations; they start as the queue grows."""

    def __init__(self, size: int, on_done: Callable[[Operation], None]) -> None:
        self._size = size
        # Weak: the workers must not keep the context alive, or it is never closed.
        self._on_done = weakref.WeakMethod(on_done)
        self._queue: deque[Operation] = deque()
        self._ready = threading.Condition(threading.Lock())
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._closed = False
        _pools_to_reset_in_child().add(self)

    def schedule(self, operation: Operation) -> None:
        with self._ready:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            operation._state = _State.QUEUED
            self._queue.append(operation)
            if self._idle:
                self._ready.notify()
            elif len(self._threads) < self._size:
                self._start_worker()

    def unschedule(self, operation: Operation) -> bool:
        """Take ``operation`` off the queue if no worker has started it."""
        with self._ready:
            if operation._state is not _State.QUEUED:
                return False
            self._queue.remove(operation)
            return True

    def close(self) -> list[Operation]:
        """Stop the workers once they finish what they run; return the unstarted."""
        with self._ready:
            self._closed = True
            unstarted = list(self._queue)
            self._queue.clear()
            self._ready.notify_all()
            threads, self._threads = self._threads, []
        current = threading.current_thread()
        for thread in threads:
            if thread is not current:
                thread.join()
        return unstarted

    def _start_worker(self) -> None:
        thread = threading.Thread(
            target=self._work,
            name=f"asyncfile-python-aio-{len(self._threads)}",
            daemon=True,
        )
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._idle += 1
                    self._ready.wait()
                    self._idle -= 1
                if not self._queue:
                    return
                operation = self._queue.popleft()
                operation._state = _State.RUNNING
            self._run(operation)
            del operation  # an idle worker must hold nothing alive

    def _stopping(self) -> bool:
        return self._closed

    def _run(self, operation: Operation) -> None:
        try:
            operation._perform(self._stopping)
        except BaseException as exc:
            outcome: BaseException | None = exc
        else:
            outcome = None
        on_done = self._on_done()
        if on_done is not None:
            on_done(operation)
        operation._complete(outcome)

    def _reset_in_child(self) -> None:
        # The parent's threads do not exist here and its locks may be held: the
        # queued operations belong to the parent, which still runs them.
        self._ready = threading.Condition(threading.Lock())
        self._queue.clear()
        self._threads = []
        self._idle = 0


@functools.cache
def _pools_to_reset_in_child() -> weakref.WeakSet[_WorkerPool]:
    pools: weakref.WeakSet[_WorkerPool] = weakref.WeakSet()

    def reset() -> None:
        for pool in list(pools):
            pool._reset_in_child()

    if hasattr(os, "register_at_fork"):  # Windows does not fork
        os.register_at_fork(after_in_child=reset)
    return pools


@functools.cache
def _contexts_to_close_at_exit() -> weakref.WeakSet[Context]:
    contexts: weakref.WeakSet[Context] = weakref.WeakSet()

    def close_all() -> None:
        for context in list(contexts):
            context.close()

    atexit.register(close_all)
    return contexts


class Context(AbstractContext):
    """python_aio context: a pool of Python threads calling os.pread and os.pwrite.

    ``max_requests`` bounds the operations in flight (submitting more raises
    ``RuntimeError``); ``pool_size`` bounds the threads, which start on demand.
    """

    MAX_POOL_SIZE = 128

    def __init__(self, max_requests: int = 32, pool_size: int = 8) -> None:
        self._closed = True
        if not 0 < pool_size < self.MAX_POOL_SIZE:
            raise ValueError(
                f"pool_size must be between 1 and {self.MAX_POOL_SIZE - 1}, "
                f"got {pool_size}"
            )
        if max_requests <= 0:
            raise ValueError(f"max_requests must be positive, got {max_requests}")
        self._max_requests = max_requests
        self._lock = threading.Lock()
        self._in_progress = 0
        self.pool = _WorkerPool(pool_size, self._release_slot)
        self._closed = False
        _contexts_to_close_at_exit().add(self)

    @property
    def max_requests(self) -> int:
        return self._max_requests

    @property
    def closed(self) -> bool:
        return self._closed

    def submit(self, *aio_operations: AbstractOperation) -> int:
        operations = [_as_operation(op) for op in aio_operations]
        accepted = 0
        for operation in operations:
            if self._claim_slot(operation):
                try:
                    self.pool.schedule(operation)
                except BaseException:
                    self._rollback_claim(operation)
                    raise
                accepted += 1
        return accepted

    def cancel(self, *aio_operations: AbstractOperation) -> int:
        cancelled = 0
        for operation in map(_as_operation, aio_operations):
            if self.pool.unschedule(operation):
                self._release_slot(operation)
                operation._complete(cancelled_error(operation.fileno))
                cancelled += 1
        return cancelled

    def close(self) -> None:
        """Stop accepting operations, cancel the unstarted ones (they complete
        with ``ECANCELED``), and wait for the running ones to finish."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for operation in self.pool.close():
            self._release_slot(operation)
            operation._complete(cancelled_error(operation.fileno))

    def __del__(self) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{self._in_progress} in flight"
        name = f"{type(self).__module__}.Context"
        return f"<{name} max_requests={self._max_requests} {state}>"

    def _claim_slot(self, operation: Operation) -> bool:
        with self._lock:
            if self._closed:
                raise RuntimeError("Context is closed")
            if operation._state is not _State.NEW:
                return False
            if self._in_progress >= self._max_requests:
                raise QueueFullError(
                    f"max_requests ({self._max_requests}) operations already in flight"
                )
            operation._state = _State.QUEUED
            self._in_progress += 1
            return True

    def _rollback_claim(self, operation: Operation) -> None:
        with self._lock:
            operation._state = _State.NEW
            self._in_progress -= 1

    def _release_slot(self, operation: Operation) -> None:
        with self._lock:
            self._in_progress -= 1


def _as_operation(operation: object) -> Operation:
    if not isinstance(operation, Operation):
        raise TypeError(f"python_aio.Operation expected, got {operation!r}")
    return operation
