"""Directory listings that stream: ``scandir`` and ``walk``.

A directory is read in batches on a worker thread; each batch is handed to
the caller as soon as it is read, so the first entry arrives long before a
large directory has been read whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import Any, AnyStr, Generic, overload

from .._filesystem import in_thread
from . import path as _path

#: Entries the first batch reads: small, so the first entry comes quickly.
FIRST_BATCH = 64
#: The most entries one batch reads: large, so a big directory costs few hops,
#: and small, since the thread holds the GIL while it makes the entries and the
#: loop waits for it then (until the interpreter's switch interval forces a
#: hand-over, 5 ms by default).
LARGEST_BATCH = 1024
#: How long (seconds) entries already read are handed out without giving the
#: loop a turn: a caller that iterates a buffered batch never suspends
#: otherwise, and a batch of thousands holds every other task off.
HAND_OUT_BUDGET = 0.001


def _settle_types(entry: os.DirEntry[Any]) -> None:
    """Ask the entry what it is while on the worker thread: ``DirEntry``
    caches the answers, so ``is_dir()``, ``is_file()`` and ``is_symlink()``
    make no system call on the loop afterwards (a symbolic link's target,
    or a file system that reports no type, needs a ``stat``)."""
    try:
        if entry.is_symlink():
            entry.is_dir()  # the target's type: a stat, cached
    except OSError:
        pass


def _read_batch(
    entries: Iterator[os.DirEntry[Any]], count: int
) -> tuple[list[os.DirEntry[Any]], OSError | None, bool]:
    """Up to ``count`` entries; the error that stopped the read, if any;
    whether the directory has been read to its end."""
    batch: list[os.DirEntry[Any]] = []
    try:
        batch.extend(itertools.islice(entries, count))
    except OSError as error:
        at_end: OSError | None = error
    else:
        at_end = None
    for entry in batch:
        _settle_types(entry)
    return batch, at_end, at_end is not None or len(batch) < count


class ScandirIterator(Generic[AnyStr]):
    """Like the iterator ``os.scandir`` returns, asynchronous: ``async for``,
    ``async with`` (closes it), ``close()``; ``await`` opens the directory
    (raising what ``os.scandir`` raises) and gives back the iterator.

    Entries are the real ``os.DirEntry`` objects, yielded while the
    directory is read (batches read on a worker thread). Their ``is_dir()``,
    ``is_file()`` and ``is_symlink()`` were answered on that thread and make
    no system call on the loop; ``entry.stat()`` may (it is an ``lstat`` on
    POSIX): ``await asyncfile.os.stat(entry, follow_symlinks=False)`` asks
    without blocking.
    """

    def __init__(self, path: Any) -> None:
        self._path = path
        self._entries: Iterator[os.DirEntry[AnyStr]] | None = None
        self._buffer: list[os.DirEntry[AnyStr]] = []
        self._pending: asyncio.Future[Any] | None = None
        self._error: OSError | None = None
        self._exhausted = False
        self._closed = False
        self._batch = FIRST_BATCH
        self._turn_started = 0.0  # when the loop last had a turn from us
        #: Entries read from the directory so far (yielded or buffered).
        self.entries_read = 0

    async def _open(self) -> None:
        if self._entries is None and not self._closed:
            opening: asyncio.Future[Any] = asyncio.ensure_future(
                in_thread(os.scandir, self._path)
            )
            self._pending = opening
            try:
                self._entries = await asyncio.shield(opening)
            except asyncio.CancelledError:
                opening.add_done_callback(self._close_when_opened)
                raise
            finally:
                self._pending = None
            if self._closed:  # closed while it was opening
                self._close_entries()

    def _close_when_opened(self, opening: asyncio.Future[Any]) -> None:
        if not opening.cancelled() and opening.exception() is None:
            opening.result().close()

    def __await__(self) -> Any:
        async def opened() -> ScandirIterator[AnyStr]:
            await self._open()
            return self

        return opened().__await__()

    def __aiter__(self) -> ScandirIterator[AnyStr]:
        return self

    async def __anext__(self) -> os.DirEntry[AnyStr]:
        if self._buffer:  # most calls: an entry already read
            if time.monotonic() - self._turn_started > HAND_OUT_BUDGET:
                await asyncio.sleep(0)
                self._turn_started = time.monotonic()
                if not self._buffer:  # closed meanwhile
                    raise StopAsyncIteration
            return self._buffer.pop()
        await self._open()
        while not self._buffer:
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            if self._exhausted or self._closed:
                self.close()
                raise StopAsyncIteration
            await self._fill()
        self._turn_started = time.monotonic()
        return self._buffer.pop()

    async def _fill(self) -> None:
        """Read the next batch; a cancelled caller leaves it to the next one."""
        if self._pending is None:
            assert self._entries is not None
            self._pending = asyncio.ensure_future(
                in_thread(_read_batch, self._entries, self._batch)
            )
            self._batch = min(self._batch * 2, LARGEST_BATCH)
        pending = self._pending
        batch, error, at_end = await asyncio.shield(pending)
        if self._pending is pending:
            self._pending = None
            batch.reverse()  # popped from the end, in the directory's order
            self._buffer = batch
            self.entries_read += len(batch)
            self._error = error
            self._exhausted = at_end
            if at_end and not self._closed:
                self._close_entries()

    def _close_entries(self) -> None:
        entries, self._entries = self._entries, None
        if entries is not None:
            entries.close()  # type: ignore[attr-defined]

    def close(self) -> None:
        """Close the directory now, or once a batch being read finishes (the
        directory is never closed under a thread reading it)."""
        self._closed = True
        self._buffer = []
        entries, self._entries = self._entries, None
        if entries is None:
            return
        pending = self._pending
        if pending is not None and not pending.done():
            pending.add_done_callback(lambda _: entries.close())  # type: ignore[attr-defined]
        else:
            entries.close()  # type: ignore[attr-defined]

    async def aclose(self) -> None:
        """``close()``, returning once the directory is closed."""
        pending = self._pending
        self.close()
        if pending is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait([pending])

    async def __aenter__(self) -> ScandirIterator[AnyStr]:
        await self._open()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        if not self._closed:
            with contextlib.suppress(RuntimeError):  # its loop is closed
                self.close()


@overload
def scandir(path: None = None) -> ScandirIterator[str]: ...
@overload
def scandir(path: int) -> ScandirIterator[str]: ...
@overload
def scandir(path: AnyStr | os.PathLike[AnyStr]) -> ScandirIterator[AnyStr]: ...
def scandir(path: Any = None) -> ScandirIterator[Any]:
    """Like ``os.scandir(path)``, as an asynchronous iterator of
    ``os.DirEntry`` that yields entries while the directory is read.

    ``async for entry in scandir(p)``, ``async with scandir(p) as it``, or
    ``it = await scandir(p)`` (which raises at once what ``os.scandir``
    raises: ``FileNotFoundError``, ``NotADirectoryError``, ...). See
    :class:`ScandirIterator` for what the entries promise.
    """
    return ScandirIterator(path)


_OnError = Callable[[OSError], object] | None


async def walk(
    top: Any,
    topdown: bool = True,
    onerror: _OnError = None,
    followlinks: bool = False,
) -> AsyncIterator[tuple[Any, list[Any], list[Any]]]:
    """Like ``os.walk``, as an asynchronous generator: the same triples in
    the same order, ``onerror`` called with the same errors, and with
    ``topdown`` pruning by editing the ``dirnames`` list in place.

    It streams a directory at a time: each directory is listed (through
    :func:`scandir`) when the walk reaches it, never the whole tree first.
    """
    sys.audit("os.walk", top, topdown, onerror, followlinks)
    stack: list[Any] = [os.fspath(top)]
    while stack:
        top = stack.pop()
        if isinstance(top, tuple):
            yield top
            continue
        listed = await _list_for_walk(top, topdown, onerror, followlinks)
        if listed is None:
            continue
        dirs, nondirs, walk_dirs = listed
        if topdown:
            yield top, dirs, nondirs
            for dirname in reversed(dirs):
                new_path = os.path.join(top, dirname)
                if followlinks or not await _path.islink(new_path):
                    stack.append(new_path)
        else:
            stack.append((top, dirs, nondirs))
            stack.extend(reversed(walk_dirs))


async def _list_for_walk(
    top: Any, topdown: bool, onerror: _OnError, followlinks: bool
) -> tuple[list[Any], list[Any], list[Any]] | None:
    """``top``'s directory names, other names and (bottom-up) directories to
    walk into, as ``os.walk`` sorts them; None where listing failed."""
    dirs: list[Any] = []
    nondirs: list[Any] = []
    walk_dirs: list[Any] = []
    try:
        entries: ScandirIterator[Any] = await scandir(top)
    except OSError as error:
        if onerror is not None:
            onerror(error)
        return None
    async with entries:
        while True:
            try:
                entry = await entries.__anext__()
            except StopAsyncIteration:
                break
            except OSError as error:
                if onerror is not None:
                    onerror(error)
                return None
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (dirs if is_dir else nondirs).append(entry.name)
            if not topdown and is_dir:
                try:
                    walk_into = followlinks or not entry.is_symlink()
                except OSError:
                    walk_into = True
                if walk_into:
                    walk_dirs.append(entry.path)
    return dirs, nondirs, walk_dirs
