"""Filesystem work: many small files, ``stat``, directory listings, a copy.

The cases that measure what a program does around the bytes: read a small file
whole (a template, a JSON document, a static asset), ``stat`` a file, list a
directory, copy a file. Each is an interface of its own (a case's ``api``:
``"open"``, ``"stat"``, ``"scandir"``, ``"listdir"``, ``"copyfile"``), so a
contender serves exactly the calls its library has: asyncfile's ``stat``,
``scandir``, ``listdir`` and ``copyfile`` rows appear once ``asyncfile.os``
offers them (see :mod:`benchmarks.contenders`).

A contender's opener for one of these interfaces yields an :class:`FsHandle`:
the one call, as a coroutine function (``call``), an async iterable
(``stream``, for a ``scandir`` that yields entries while the directory is
read) or a plain function run on the loop thread (``blocking``: ``sync``).

Each work below follows :class:`~benchmarks.filecases.FileWork`: an untimed
pass checks every result against the standard library (every file's bytes,
every ``stat``'s size, inode and mtime, every name, the copy's size and
sampled bytes), then a timed pass counts results and sizes the same way for
every contender, and its tally must equal what the standard library gives.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import os
import random
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.filecases import Tally, check

MiB = 1 << 20
FS_APIS = ("open", "stat", "scandir", "listdir", "copyfile")
"""The interfaces (case ``api``) of this module's work."""
DEPTH = 64
"""Calls in flight in the ``small-files`` and ``stat`` cases (lane tasks)."""


@dataclass(frozen=True)
class FsHandle:
    """One filesystem call of a contender; exactly one field is set.

    ``call``: a coroutine function taking the case's ``str`` paths, whose
    value is the call's result (``open``: the whole file's bytes; ``stat``: a
    ``stat_result``; ``scandir``: an iterable of ``os.DirEntry``-like entries,
    closed after use if it has ``close``; ``listdir``: the names; ``copyfile``:
    anything). ``stream`` (``scandir`` only): an async iterable of entries
    that yields them while the directory is read. ``blocking``: the same call
    as a plain function on the loop thread (it never yields, so the heartbeat
    shows the whole pass as lag); for ``scandir``, ``os.scandir`` itself.
    """

    call: Callable[..., Awaitable[Any]] | None = None
    stream: Callable[[str], AsyncIterable[Any]] | None = None
    blocking: Callable[..., Any] | None = None


def read_whole_file(path: str) -> bytes:
    """The ``open`` interface's call, blocking: open ``"rb"``, read, close."""
    with open(path, "rb") as f:
        return f.read()


def scandir_list(path: str) -> list[os.DirEntry[str]]:
    """Every entry of ``path`` (``os.scandir``, closed): the call a thread makes."""
    with os.scandir(path) as entries:
        return list(entries)


@functools.lru_cache(maxsize=8)
def tree_files(directory: str) -> tuple[str, ...]:
    """The files of a data directory as ``str`` paths, sorted by name.

    Cached: a work's ``expected`` lists them before its timed pass, so the
    timed pass does not.
    """
    names = sorted(os.listdir(directory))
    return tuple(os.path.join(directory, name) for name in names)


def _lanes(files: Sequence[str], depth: int) -> list[Sequence[str]]:
    return [files[i::depth] for i in range(min(depth, len(files)))]


def _async_call(handle: FsHandle) -> Callable[..., Awaitable[Any]]:
    if handle.call is None:
        raise TypeError("this case needs FsHandle.call or FsHandle.blocking")
    return handle.call


async def _in_lanes(
    depth: int, files: Sequence[str], call: Callable[[str], Awaitable[Any]]
) -> list[Any]:
    """``call(path)`` for every file, ``depth`` lanes in flight; results in order."""
    results: list[Any] = [None] * len(files)
    index = {path: i for i, path in enumerate(files)}

    async def lane(paths: Sequence[str]) -> None:
        for path in paths:
            results[index[path]] = await call(path)

    await asyncio.gather(*(lane(paths) for paths in _lanes(files, depth)))
    return results


def _tree_of(path: Path, ops: int) -> Sequence[str]:
    """The files of the tree at ``path``, which must hold ``ops`` of them."""
    files = tree_files(str(path))
    if len(files) != ops:
        raise ValueError(f"{path} holds {len(files)} files, the case wants {ops}")
    return files


async def _tally_calls(
    handle: FsHandle, files: Sequence[str], depth: int, size_of: Callable[[Any], int]
) -> Tally:
    """The timed pass: the contender's call on every file (``depth`` lanes
    in flight, or one after another for a blocking one), counted and sized."""
    if handle.blocking is not None:
        blocking = handle.blocking
        items = size = 0
        for name in files:
            items += 1
            size += size_of(blocking(name))
        return Tally(items, size)
    call = _async_call(handle)

    async def lane(paths: Sequence[str]) -> tuple[int, int]:
        items = size = 0
        for name in paths:
            items += 1
            size += size_of(await call(name))
        return items, size

    counts = await asyncio.gather(*(lane(p) for p in _lanes(files, depth)))
    return Tally(sum(c[0] for c in counts), sum(c[1] for c in counts))


async def _results(handle: FsHandle, files: Sequence[str], depth: int) -> list[Any]:
    """The checked pass: the contender's result for every file, in order."""
    if handle.blocking is not None:
        return [handle.blocking(name) for name in files]
    return await _in_lanes(depth, files, _async_call(handle))


@dataclass(frozen=True)
class ReadFiles:
    """Every file of a directory opened ``"rb"``, read whole and closed,
    ``depth`` lanes in flight (each lane its share of the files in turn)."""

    depth: int = DEPTH
    unit: str = "file"

    def describe(self) -> str:
        return (
            '`async with open(p, "rb") as f: await f.read()` for every file, '
            f"{self.depth} in flight (`sync`: one after another on the loop)"
        )

    def expected(self, path: Path, ops: int) -> Tally:
        files = _tree_of(path, ops)
        return Tally(len(files), sum(os.stat(f).st_size for f in files))

    async def run(self, handle: FsHandle, path: Path) -> Tally:
        return await _tally_calls(handle, tree_files(str(path)), self.depth, len)

    async def verify(self, handle: FsHandle, path: Path) -> None:
        """Every file's bytes, read through the contender, equal the file's."""
        files = tree_files(str(path))
        got = await _results(handle, files, self.depth)
        for name, data in zip(files, got, strict=True):
            if bytes(data) != read_whole_file(name):
                raise AssertionError(
                    f"reading {name} returned {len(data)} bytes that differ "
                    "from the file's"
                )

    def confirm(self, got: Tally, expected: Tally, path: Path) -> None:
        check(got, expected, self.unit)


STAT_FIELDS = ("st_size", "st_ino", "st_mtime_ns")
"""What :class:`StatFiles` compares with ``os.stat``'s."""


def _stat_size(result: os.stat_result) -> int:
    return result.st_size


@dataclass(frozen=True)
class StatFiles:
    """``stat`` of every file of a directory, ``depth`` lanes in flight."""

    depth: int = DEPTH
    unit: str = "stat"

    def describe(self) -> str:
        return (
            f"`await stat(p)` for every file, {self.depth} in flight "
            "(`sync`: `os.stat` one after another on the loop)"
        )

    def expected(self, path: Path, ops: int) -> Tally:
        files = _tree_of(path, ops)
        return Tally(len(files), sum(os.stat(f).st_size for f in files))

    async def run(self, handle: FsHandle, path: Path) -> Tally:
        return await _tally_calls(handle, tree_files(str(path)), self.depth, _stat_size)

    async def verify(self, handle: FsHandle, path: Path) -> None:
        """Every file's size, inode and mtime equal ``os.stat``'s."""
        files = tree_files(str(path))
        got = await _results(handle, files, self.depth)
        for name, result in zip(files, got, strict=True):
            want = os.stat(name)
            for field in STAT_FIELDS:
                if getattr(result, field) != getattr(want, field):
                    raise AssertionError(
                        f"stat({name}).{field} is {getattr(result, field)}, "
                        f"os.stat says {getattr(want, field)}"
                    )

    def confirm(self, got: Tally, expected: Tally, path: Path) -> None:
        check(got, expected, self.unit)


def _listing_tally(names: Iterable[str]) -> Tally:
    names = list(names)
    return Tally(len(names), sum(len(name) for name in names))


def _check_names(got: Sequence[str], path: Path) -> None:
    """``got`` names every entry of ``path`` exactly once (any order)."""
    want = sorted(os.listdir(path))
    if sorted(got) != want:
        missing = sorted(set(want) - set(got))[:3]
        extra = sorted(set(got) - set(want))[:3]
        raise AssertionError(
            f"listed {len(got):,} names of {path}, os.listdir gives {len(want):,} "
            f"(missing {missing}, not there {extra}, or repeated)"
        )


@dataclass(frozen=True)
class ScanDir:
    """Every entry of a directory through ``scandir``: its name counted."""

    unit: str = "entry"

    def describe(self) -> str:
        return (
            "`async for entry in scandir(d)` (or the library's nearest), counting "
            "each `entry.name`"
        )

    def expected(self, path: Path, ops: int) -> Tally:
        tally = _listing_tally(os.listdir(path))
        if tally.items != ops:
            raise ValueError(f"{path} has {tally.items} entries, the case wants {ops}")
        return tally

    async def run(self, handle: FsHandle, path: Path) -> Tally:
        directory = str(path)
        items = size = 0
        if handle.blocking is not None:
            with handle.blocking(directory) as entries:
                for entry in entries:
                    items += 1
                    size += len(entry.name)
        elif handle.stream is not None:
            async for entry in handle.stream(directory):
                items += 1
                size += len(entry.name)
        else:
            entries = await _async_call(handle)(directory)
            try:
                for entry in entries:
                    items += 1
                    size += len(entry.name)
            finally:
                _close(entries)
        return Tally(items, size)

    async def verify(self, handle: FsHandle, path: Path) -> None:
        """Every name once, as ``os.listdir``'s; each entry's ``path`` joined."""
        entries = await self._entries(handle, str(path))
        for entry in entries:
            if entry.path != os.path.join(str(path), entry.name):
                raise AssertionError(f"entry {entry.name!r} has path {entry.path!r}")
        _check_names([entry.name for entry in entries], path)

    async def _entries(self, handle: FsHandle, directory: str) -> list[Any]:
        if handle.blocking is not None:
            with handle.blocking(directory) as entries:
                return list(entries)
        if handle.stream is not None:
            return [entry async for entry in handle.stream(directory)]
        entries = await _async_call(handle)(directory)
        try:
            return list(entries)
        finally:
            _close(entries)

    def confirm(self, got: Tally, expected: Tally, path: Path) -> None:
        check(got, expected, self.unit)


def _close(entries: Any) -> None:
    close = getattr(entries, "close", None)
    if close is not None:
        close()


#: Names counted between two loop turns after an async listdir: the count of
#: 100,000 names in one go held the loop for about 4 ms here, the case's own
#: work rather than the library's, and the same for every contender.
COUNT_STEP = 8192


async def _count_names(names: Sequence[Any]) -> Tally:
    """The names' count and total length, giving the loop a turn every
    ``COUNT_STEP`` names."""
    items = size = 0
    for start in range(0, len(names), COUNT_STEP):
        if start:
            await asyncio.sleep(0)
        for name in names[start : start + COUNT_STEP]:
            items += 1
            size += len(name)
    return Tally(items, size)


@dataclass(frozen=True)
class ListDir:
    """A directory's names through ``listdir``, each name counted."""

    unit: str = "entry"

    def describe(self) -> str:
        return (
            "`names = await listdir(d)`, counting each name (a loop turn every "
            f"{COUNT_STEP:,} names after an await)"
        )

    def expected(self, path: Path, ops: int) -> Tally:
        return ScanDir().expected(path, ops)

    async def run(self, handle: FsHandle, path: Path) -> Tally:
        directory = str(path)
        if handle.blocking is not None:
            names = handle.blocking(directory)
            items = size = 0
            for name in names:
                items += 1
                size += len(name)
            return Tally(items, size)
        names = await _async_call(handle)(directory)
        return await _count_names(names)

    async def verify(self, handle: FsHandle, path: Path) -> None:
        """Every name once, as ``os.listdir``'s (in any order)."""
        if handle.blocking is not None:
            names = handle.blocking(str(path))
        else:
            names = await _async_call(handle)(str(path))
        _check_names(list(names), path)

    def confirm(self, got: Tally, expected: Tally, path: Path) -> None:
        check(got, expected, self.unit)


@dataclass(frozen=True)
class CopyFile:
    """The data file copied to a new file beside it, then checked and deleted.

    The check: the copy's size, then ``samples`` pieces of ``sample_size``
    bytes (the first, the last, and the rest at offsets drawn afresh for
    every check, so no fixed set of places can pass it) hashed from both
    files. The copy is deleted after each pass, before its dirty pages are
    written back during a later measurement.
    """

    samples: int = 64
    sample_size: int = 64 * 1024
    unit: str = "MiB"

    def describe(self) -> str:
        return (
            "`await copyfile(src, dst)` of the whole file to a new one beside it; "
            f"the copy's size and a SHA-256 of {self.samples} sampled "
            f"{self.sample_size >> 10} KiB pieces are checked, then it is deleted"
        )

    @staticmethod
    def target(path: Path) -> Path:
        """Where a pass copies ``path`` to."""
        return path.with_name(path.name + ".copy")

    def expected(self, path: Path, ops: int) -> Tally:
        size = os.stat(path).st_size
        if size // MiB != ops:
            raise ValueError(f"{path} holds {size // MiB} MiB, the case wants {ops}")
        return Tally(ops, size)

    async def run(self, handle: FsHandle, path: Path) -> Tally:
        source, target = str(path), str(self.target(path))
        if handle.blocking is not None:
            handle.blocking(source, target)
        else:
            await _async_call(handle)(source, target)
        size = os.stat(target).st_size
        return Tally(size // MiB, size)

    async def verify(self, handle: FsHandle, path: Path) -> None:
        """A whole pass, whose copy must hold the source's size and bytes."""
        tally = await self.run(handle, path)
        self.confirm(tally, self.expected(path, os.stat(path).st_size // MiB), path)

    def confirm(self, got: Tally, expected: Tally, path: Path) -> None:
        """Check a pass: size, then sampled bytes; delete the copy either way."""
        target = self.target(path)
        try:
            check(got, expected, self.unit)
            offsets = self.sample_offsets(expected.size)
            if sampled_digest(target, offsets, self.sample_size) != sampled_digest(
                path, offsets, self.sample_size
            ):
                raise AssertionError(f"{target} differs from {path} where sampled")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)

    def sample_offsets(self, size: int) -> list[int]:
        """The first and last piece's offsets, then random ones (unseeded)."""
        last = max(0, size - self.sample_size)
        rng = random.Random()
        return [0, last, *(rng.randrange(last + 1) for _ in range(self.samples - 2))]


def sampled_digest(path: Path, offsets: Sequence[int], size: int) -> str:
    """SHA-256 of ``size`` bytes at each offset of ``path`` (short at the end)."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        for offset in offsets:
            digest.update(os.pread(fd, size, offset))
    finally:
        os.close(fd)
    return digest.hexdigest()
