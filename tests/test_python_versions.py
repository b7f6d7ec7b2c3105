"""What changes from one CPython to the next: asyncfile follows the running
Python's io where io changed (3.14's error wording and read-ahead size), and
each place where the C code leans on CPython or asyncio beyond their public
API keeps its fast path on the versions it is built for (3.10 to 3.14)."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from backends import Backend
from tracing import calls_between_marks

import asyncfile
from asyncfile.io import _locks, _text

KiB = 1024


async def test_non_text_codec_error_is_worded_as_the_running_io_words_it(
    tmp_path: Path,
) -> None:
    """3.14's io words it differently from 3.13's; open() and reconfigure()
    both give the running Python's words."""
    path = tmp_path / "f.txt"
    with pytest.raises(LookupError) as theirs:
        io.TextIOWrapper(io.BytesIO(), encoding="rot13")
    with pytest.raises(LookupError) as ours:
        await asyncfile.open(path, "w", encoding="rot13")
    assert ours.value.args == theirs.value.args
    with path.open("w", encoding="utf-8") as g, pytest.raises(LookupError) as io_again:
        g.reconfigure(encoding="rot13")
    async with asyncfile.open(path, "w", encoding="utf-8") as f:
        with pytest.raises(LookupError) as ours_again:
            await f.reconfigure(encoding="rot13")
        assert f.encoding == "utf-8"
    assert ours_again.value.args == io_again.value.args


async def test_default_read_buffer_is_the_running_ios(tmp_path: Path) -> None:
    """``buffering=-1`` on a reader reads ahead as far as the running
    Python's io: the block size before 3.14, at least 128 KiB since."""
    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(16 * 1024 * KiB))
    with path.open("rb") as g:
        g.read(1)
        io_read_ahead = g.raw.tell()
    assert io_read_ahead < path.stat().st_size  # a buffer's worth, not the file
    async with asyncfile.open(path, "rb") as f:
        assert f.buffer_size == io_read_ahead
        await f.read(1)
        assert f.raw.tell() == io_read_ahead


def _layer_modes(f: Any) -> list[str]:
    """The mode of each layer, text to raw."""
    modes = []
    while f is not None:
        modes.append(f.mode)
        f = getattr(f, "buffer", None) or getattr(f, "raw", None)
    return modes


@pytest.mark.parametrize(
    ("mode", "buffering"),
    [("w+b", 0), ("wb+", -1), ("w+", -1), ("w+b", -1), ("r+b", -1)],
)
async def test_w_plus_raw_mode_is_named_as_the_running_io_names_it(
    tmp_path: Path, mode: str, buffering: int
) -> None:
    """3.15's FileIO says ``"wb+"`` for a file opened ``"w+"``, 3.14's ``"rb+"``."""
    kwargs: dict[str, Any] = {} if "b" in mode else {"encoding": "utf-8"}
    for name in ("io", "af"):
        (tmp_path / name).write_bytes(b"x")
    with (tmp_path / "io").open(mode, buffering=buffering, **kwargs) as g:
        theirs = _layer_modes(g)
    async with asyncfile.open(
        tmp_path / "af", mode, buffering=buffering, **kwargs
    ) as f:
        assert _layer_modes(f) == theirs


def test_task_lock_owner_is_a_slot_the_c_reads_through_its_descriptor() -> None:
    """The text shortcuts ask TaskLock's ``_owner`` through its member
    descriptor, found once per type, when it is one."""
    assert type(_locks.TaskLock.__dict__["_owner"]) is types.MemberDescriptorType


@pytest.fixture
def speedups() -> types.ModuleType:
    try:
        from asyncfile import _speedups
    except ImportError:
        pytest.skip("asyncfile._speedups is not built (no C compiler)")
    return _speedups


async def test_plain_writes_follow_the_lock_owner_slot(
    tmp_path: Path, speedups: types.ModuleType
) -> None:
    """A write done at once while no task holds the file; refused (the
    Python write waits its turn) while another task holds it."""
    async with asyncfile.open(tmp_path / "f.txt", "w", encoding="utf-8") as f:
        assert speedups.write_plainly(f, "abc") == 3
        lock = f._lock  # type: ignore[attr-defined]
        holder_has_it = asyncio.Event()
        release = asyncio.Event()

        async def hold() -> None:
            assert lock.try_acquire()
            holder_has_it.set()
            await release.wait()
            lock.release()

        holder = asyncio.create_task(hold())
        await holder_has_it.wait()
        assert speedups.write_plainly(f, "def") is None
        release.set()
        await holder
        assert speedups.write_plainly(f, "ghi") == 3
    assert (tmp_path / "f.txt").read_text(encoding="utf-8") == "abcghi"


async def test_pending_text_grows_in_place_within_its_reservation(
    tmp_path: Path, speedups: types.ModuleType
) -> None:
    """Plain writes reserve the pending bytes once and then only copy into
    them, on each CPython whose bytearray layout the C code is built for."""
    async with asyncfile.open(tmp_path / "f.txt", "w", encoding="utf-8") as f:
        pending: bytearray = f._pending  # type: ignore[attr-defined]
        reserve = min(f._chunk_size, 1024 * KiB)  # type: ignore[attr-defined]
        for _ in range(100):
            assert speedups.write_plainly(f, "abc") == 3
        assert bytes(pending) == b"abc" * 100
        if sys.version_info < (3, 15):
            assert pending.__alloc__() == reserve + 1
    assert (tmp_path / "f.txt").read_text(encoding="utf-8") == "abc" * 100


class _LoopWatchingThreadId(asyncio.SelectorEventLoop):
    """A real selector loop that counts reads of asyncio's ``_thread_id``."""

    thread_id_reads = 0

    @property  # type: ignore[override]
    def _thread_id(self) -> int | None:
        self.thread_id_reads += 1
        return self.__dict__.get("_watched_thread_id")

    @_thread_id.setter
    def _thread_id(self, value: int | None) -> None:
        self.__dict__["_watched_thread_id"] = value


def test_cached_reads_find_the_running_loop_on_each_python(
    native_backend: Backend, tmp_path: Path
) -> None:
    """The C core finds the running loop in the thread's state, as asyncio
    does (before 3.12 without asyncio's getpid() call), never through a
    loop's private ``_thread_id`` (uvloop has none): a page-cache read
    completes at once on the running loop, and the Python layer (fsync)
    asks the same predicate."""
    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(64 * KiB))
    fd = os.open(path, os.O_RDONLY)
    os.pread(fd, 64 * KiB, 0)
    loop = _LoopWatchingThreadId()

    async def main() -> list[tuple[object, int]]:
        outcomes = []
        async with native_backend.asyncio_module.AsyncioContext() as context:
            read_cached = context.cached_reader()
            await asyncio.sleep(0)  # the context has seen its loop run
            before = loop.thread_id_reads
            outcomes.append(
                (read_cached(4 * KiB, fd, 0), loop.thread_id_reads - before)
            )
            before = loop.thread_id_reads
            syncing = context.fsync(fd)  # the Python layer finds the loop
            outcomes.append((await syncing, loop.thread_id_reads - before))
        return outcomes

    try:
        (cached, cached_asks), (synced, sync_asks) = loop.run_until_complete(main())
    finally:
        loop.close()
        os.close(fd)
    assert cached == path.read_bytes()[: 4 * KiB]
    assert synced is None
    assert (cached_asks, sync_asks) == (0, 0)


def test_the_serving_check_makes_no_system_call_on_each_python(
    native_backend: Backend, tmp_path: Path
) -> None:
    """Before 3.12, asyncio's ``_get_running_loop`` compares the pid that set
    the loop with a getpid() system call on every call; the C core reads the
    loop from the thread's state and compares a pid noted at fork instead,
    and from 3.12 asyncio needs no getpid either: a thousand cached reads
    (each asks whether the context serves the running loop) make none."""
    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(8 * KiB))
    child = f"""
        import asyncio, os, sys
        from {native_backend.asyncio_module.__name__} import AsyncioContext

        fd = os.open(sys.argv[1], os.O_RDONLY)
        os.pread(fd, 4096, 0)

        async def main():
            async with AsyncioContext() as context:
                read_cached = context.cached_reader()
                await asyncio.sleep(0)  # the context has seen its loop run
                null = os.open(os.devnull, os.O_WRONLY)
                os.write(null, b"<<checks")
                answers = [read_cached(4096, fd, 0) for _ in range(1000)]
                os.write(null, b"checks>>")
            print(sum(answer is not None for answer in answers))

        asyncio.run(main())
        """
    output, getpids = calls_between_marks(child, path, "checks", tmp_path, "getpid")
    assert output == "1000"  # each read was served at once
    assert getpids == []


def test_small_files_read_whole_make_no_getpid_on_each_python(
    tmp_path: Path,
) -> None:
    """Opening, reading and closing a file asks for the running loop and the
    running task several times, each of which costs asyncio a getpid()
    system call before 3.12: asyncfile asks the C core (or, without one,
    asyncio), and no file makes one."""
    if asyncfile.core.selection.name == "python":
        pytest.skip(
            "the python backend opens, reads and closes in the default "
            "executor, whose futures ask asyncio for the running loop"
        )
    for index in range(3):
        (tmp_path / f"{index}.txt").write_bytes(b"x" * 100)
    child = """
        import asyncio, os, sys
        import asyncfile

        async def main():
            paths = [os.path.join(sys.argv[1], f"{i}.txt") for i in range(3)]
            async with asyncfile.open(paths[0], "rb") as f:
                await f.read()  # the context exists, the modules are loaded
            null = os.open(os.devnull, os.O_WRONLY)
            os.write(null, b"<<files")
            sizes = []
            for _ in range(100):
                for path in paths:
                    async with asyncfile.open(path, "rb") as f:
                        sizes.append(len(await f.read()))
            os.write(null, b"files>>")
            print(sum(sizes))

        asyncio.run(main())
        """
    output, getpids = calls_between_marks(child, tmp_path, "files", tmp_path, "getpid")
    assert output == str(300 * 100)
    assert getpids == []


def test_current_task_is_asyncios_on_each_python() -> None:
    """The lock's notion of the running task (asyncio's private table before
    3.12, asyncio.current_task since) is asyncio's."""

    async def main() -> None:
        assert _locks.current_task() is asyncio.current_task()
        assert _locks.current_task() is not None
        outside: list[object] = []
        asyncio.get_running_loop().call_soon(
            lambda: outside.append(_locks.current_task())
        )
        await asyncio.sleep(0)
        assert outside == [None]

    asyncio.run(main())


def test_the_text_encoding_lookup_is_ios() -> None:
    """An unknown codec and a non-text codec fail as io fails."""
    for name in ("bogus", "rot13", "hex"):
        with pytest.raises(LookupError) as theirs:
            io.TextIOWrapper(io.BytesIO(), encoding=name)
        with pytest.raises(LookupError) as ours:
            _text._lookup_text_encoding(name)
        assert ours.value.args == theirs.value.args
    assert _text._lookup_text_encoding("utf-8").name == "utf-8"
