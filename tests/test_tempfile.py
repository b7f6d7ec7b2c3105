"""asyncfile.tempfile against tempfile: the same names, flags, permissions,
deletion rules and exceptions, and nothing left behind however a body ends."""

# The tests look at the file system with blocking calls, as the reference.
# ruff: noqa: ASYNC240

from __future__ import annotations

import asyncio
import io
import os
import random
import re
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from platforms import LINUX, PERMISSIONS, WINDOWS

import asyncfile
from asyncfile import tempfile as atempfile

NAME = re.compile(r"[a-z0-9_]{8}")
DELETE_ON_CLOSE = sys.version_info >= (3, 12)


@pytest.fixture
def seeded_names() -> Iterator[random.Random]:
    """tempfile's name sequence, seeded: the next names are those of the
    returned generator (the same sequence tempfile itself draws from)."""
    sequence = tempfile._get_candidate_names()  # type: ignore[attr-defined]
    sequence.rng  # noqa: B018 (makes the per-process generator)
    saved = sequence._rng
    sequence._rng = random.Random(1234)
    yield random.Random(1234)
    sequence._rng = saved


def next_name(rng: random.Random) -> str:
    return "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789_", k=8))


def fd_flags(fd: int) -> str:
    """The open flags the kernel keeps for ``fd`` (Linux's fdinfo)."""
    with open(f"/proc/self/fdinfo/{fd}") as info:
        return next(line for line in info if line.startswith("flags:"))


async def test_mkstemp_names_flags_and_mode_are_tempfiles(tmp_path: Path) -> None:
    theirs_fd, theirs = tempfile.mkstemp(suffix=".s", prefix="p-", dir=tmp_path)
    ours_fd, ours = await atempfile.mkstemp(suffix=".s", prefix="p-", dir=tmp_path)
    try:
        for path in (theirs, ours):
            assert os.path.isabs(path)
            assert os.path.dirname(path) == str(tmp_path)
            name = os.path.basename(path)
            assert name.startswith("p-")
            assert name.endswith(".s")
            assert NAME.fullmatch(name[2:-2])
        assert not os.get_inheritable(ours_fd)
        if PERMISSIONS.present:
            assert stat.S_IMODE(os.stat(ours).st_mode) == 0o600
        if LINUX.present:
            assert fd_flags(ours_fd) == fd_flags(theirs_fd)
    finally:
        os.close(theirs_fd)
        os.close(ours_fd)
    fd, name = await atempfile.mkstemp(dir=os.fsencode(tmp_path), text=True)
    os.close(fd)
    assert isinstance(name, bytes)
    assert NAME.fullmatch(os.path.basename(name).decode()[3:])


async def test_mkstemp_skips_a_name_taken_and_draws_from_tempfiles_sequence(
    tmp_path: Path, seeded_names: random.Random
) -> None:
    taken = tmp_path / f"tmp{next_name(seeded_names)}"
    taken.write_bytes(b"keep")
    expected = tmp_path / f"tmp{next_name(seeded_names)}"
    fd, name = await atempfile.mkstemp(dir=tmp_path)
    os.close(fd)
    assert name == str(expected)  # O_EXCL refused the first: the next name
    assert taken.read_bytes() == b"keep"
    # tempfile goes on where asyncfile stopped: one sequence.
    third = next_name(seeded_names)
    fd, name = tempfile.mkstemp(dir=tmp_path)
    os.close(fd)
    assert os.path.basename(name) == f"tmp{third}"


async def test_mkdtemp_is_tempfiles(tmp_path: Path, monkeypatch: Any) -> None:
    path = await atempfile.mkdtemp(prefix="d", dir=tmp_path)
    assert NAME.fullmatch(os.path.basename(path)[1:])
    assert os.path.isdir(path)
    if PERMISSIONS.present:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    monkeypatch.chdir(tmp_path)
    theirs, ours = tempfile.mkdtemp(dir="."), await atempfile.mkdtemp(dir=".")
    # Absolute since 3.12, relative as given before, as each Python's.
    assert os.path.isabs(ours) == os.path.isabs(theirs)
    assert os.path.dirname(ours) == os.path.dirname(theirs)


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"prefix": b"x", "suffix": "y"}, TypeError),
        ({"dir": "/nonexistent/asyncfile"}, FileNotFoundError),
    ],
)
async def test_mkstemp_and_mkdtemp_raise_as_tempfile(
    arguments: dict[str, Any], error: type[Exception]
) -> None:
    for theirs_call, ours_call in (
        (tempfile.mkstemp, atempfile.mkstemp),
        (tempfile.mkdtemp, atempfile.mkdtemp),
    ):
        with pytest.raises(error) as theirs:
            theirs_call(**arguments)
        with pytest.raises(error) as ours:
            await ours_call(**arguments)
        assert ours.value.args == theirs.value.args
        if error is FileNotFoundError:  # the name tried, a random one
            assert os.path.dirname(ours.value.filename) == os.path.dirname(
                theirs.value.filename
            )


async def test_gettempdir_is_tempfiles() -> None:
    assert await atempfile.gettempdir() == tempfile.gettempdir()
    assert await atempfile.gettempdirb() == tempfile.gettempdirb()
    assert atempfile.gettempprefix() == tempfile.gettempprefix()
    assert atempfile.TMP_MAX == tempfile.TMP_MAX


# -- TemporaryFile and NamedTemporaryFile -------------------------------------------


@pytest.mark.parametrize(
    ("mode", "kwargs", "data"),
    [
        ("w+b", {}, b"bytes\n"),
        ("w+", {"encoding": "utf-16", "newline": "\r\n"}, "text\nline\n"),
        ("wb", {"buffering": 0}, b"raw"),
    ],
)
@pytest.mark.parametrize("maker", ["TemporaryFile", "NamedTemporaryFile"])
async def test_files_are_asyncfile_objects_like_tempfiles(
    tmp_path: Path, maker: str, mode: str, kwargs: dict[str, Any], data: Any
) -> None:
    with getattr(tempfile, maker)(mode, dir=tmp_path, **kwargs) as theirs:
        theirs.write(data)
        if theirs.readable():
            theirs.seek(0)
            expected = theirs.read()
        kinds = type(getattr(theirs, "file", theirs)).__name__
        expected_mode, expected_name = theirs.mode, theirs.name
    async with getattr(atempfile, maker)(mode, dir=tmp_path, **kwargs) as ours:
        file = getattr(ours, "file", ours)
        assert type(file).__module__ == "asyncfile"
        assert type(file).__name__ == kinds
        assert ours.mode == expected_mode
        await ours.write(data)
        if ours.readable():
            await ours.seek(0)
            assert await ours.read() == expected
        if maker == "TemporaryFile" and not WINDOWS:
            assert ours.name == file.fileno()
            assert isinstance(expected_name, int)
        else:
            assert os.path.dirname(ours.name) == str(tmp_path)
            assert os.path.exists(ours.name)
    assert file.closed
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("delete", [True, False])
@pytest.mark.parametrize(
    "delete_on_close",
    [True, pytest.param(False, marks=pytest.mark.skipif(
        not DELETE_ON_CLOSE, reason="tempfile has delete_on_close from 3.12"))],
)  # fmt: skip
@pytest.mark.parametrize("ending", ["close", "exit", "close-then-exit"])
async def test_delete_and_delete_on_close_as_tempfile(
    tmp_path: Path, delete: bool, delete_on_close: bool, ending: str
) -> None:
    kwargs: dict[str, Any] = {"dir": tmp_path, "delete": delete}
    if not delete_on_close:
        kwargs["delete_on_close"] = False

    def io_run() -> list[bool]:
        seen = []
        with tempfile.NamedTemporaryFile(**kwargs) as f:
            if ending != "exit":
                f.close()
                seen.append(os.path.exists(f.name))
        seen.append(os.path.exists(f.name))
        if os.path.exists(f.name):
            os.unlink(f.name)
        return seen

    async def our_run() -> list[bool]:
        seen = []
        async with atempfile.NamedTemporaryFile(**kwargs) as f:
            if ending != "exit":
                await f.close()
                seen.append(os.path.exists(f.name))
        seen.append(os.path.exists(f.name))
        if os.path.exists(f.name):
            os.unlink(f.name)
        return seen

    if ending == "close":  # close only, never a context
        theirs = tempfile.NamedTemporaryFile(**kwargs)  # noqa: SIM115
        theirs.close()
        ours = await atempfile.NamedTemporaryFile(**kwargs)
        await ours.close()
        assert os.path.exists(ours.name) == os.path.exists(theirs.name)
        for name in (theirs.name, ours.name):
            if os.path.exists(name):
                os.unlink(name)
    else:
        assert await our_run() == io_run()
    assert list(tmp_path.iterdir()) == []


async def test_a_file_removed_before_cleanup_as_tempfile(tmp_path: Path) -> None:
    def io_run() -> type[BaseException] | None:
        try:
            with tempfile.NamedTemporaryFile(dir=tmp_path) as f:
                os.unlink(f.name)
        except FileNotFoundError as error:  # before 3.12
            return type(error)
        return None

    async def our_run() -> type[BaseException] | None:
        try:
            async with atempfile.NamedTemporaryFile(dir=tmp_path) as f:
                os.unlink(f.name)
        except FileNotFoundError as error:
            return type(error)
        return None

    assert await our_run() == io_run()


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"mode": "z"}, ValueError),
        ({"mode": "rb", "encoding": "utf-8"}, ValueError),
        ({"mode": "w", "buffering": 0}, ValueError),  # after creating, as io
        ({"mode": "w", "encoding": "no-such-codec"}, LookupError),
        ({"mode": "w", "encoding": "utf-8", "newline": "x"}, ValueError),
        ({"prefix": b"x", "suffix": "y"}, TypeError),
        ({"mode": "z", "prefix": b"x", "suffix": "y"}, TypeError),
    ],
)
@pytest.mark.parametrize("maker", ["TemporaryFile", "NamedTemporaryFile"])
async def test_bad_arguments_raise_as_tempfile_and_leave_nothing(
    tmp_path: Path, maker: str, arguments: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error) as theirs:
        getattr(tempfile, maker)(dir=tmp_path, **arguments)
    with pytest.raises(error) as ours:
        await getattr(atempfile, maker)(dir=tmp_path, **arguments)
    assert ours.value.args == theirs.value.args
    assert list(tmp_path.iterdir()) == []


async def test_a_missing_directory_raises_as_tempfile(tmp_path: Path) -> None:
    for maker in ("TemporaryFile", "NamedTemporaryFile"):
        with pytest.raises(FileNotFoundError) as theirs:
            getattr(tempfile, maker)(dir=tmp_path / "missing")
        with pytest.raises(FileNotFoundError) as ours:
            await getattr(atempfile, maker)(dir=tmp_path / "missing")
        assert ours.value.errno == theirs.value.errno
        assert os.path.dirname(ours.value.filename) == str(tmp_path / "missing")


@pytest.mark.parametrize("maker", ["TemporaryFile", "NamedTemporaryFile"])
async def test_nothing_left_when_the_body_raises_or_is_cancelled(
    tmp_path: Path, maker: str
) -> None:
    async def body_raising() -> None:
        async with getattr(atempfile, maker)(dir=tmp_path) as f:
            await f.write(b"x" * 100)
            1 / 0  # noqa: B018

    with pytest.raises(ZeroDivisionError):
        await body_raising()
    assert list(tmp_path.iterdir()) == []

    started = asyncio.Event()

    async def body() -> None:
        async with getattr(atempfile, maker)(dir=tmp_path) as f:
            await f.write(b"pending in the buffer")
            started.set()
            await asyncio.sleep(60)

    task = asyncio.ensure_future(body())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "maker", ["TemporaryFile", "NamedTemporaryFile", "TemporaryDirectory", "mkdtemp"]
)
async def test_a_creation_cancelled_at_any_point_leaves_nothing(
    tmp_path: Path, maker: str
) -> None:
    """Cancelled after 0, 1, 2... loop turns: either the creation finished
    and the caller got what it made (and cleans it up), or nothing is left."""
    for turns in range(12):

        async def create() -> None:
            if maker == "mkdtemp":
                name = await atempfile.mkdtemp(dir=tmp_path)
                try:
                    await asyncio.sleep(60)
                finally:
                    os.rmdir(name)
            async with getattr(atempfile, maker)(dir=tmp_path):
                await asyncio.sleep(60)  # held until cancelled

        task = asyncio.ensure_future(create())
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert list(tmp_path.iterdir()) == [], turns


async def test_the_creation_says_to_await_it(tmp_path: Path) -> None:
    creation = atempfile.NamedTemporaryFile(dir=tmp_path)
    with pytest.raises(asyncfile.NotOpenedError, match="await NamedTemporaryFile"):
        creation.write  # noqa: B018
    assert list(tmp_path.iterdir()) == []


async def test_a_wrapper_collected_unclosed_is_cleaned_up(tmp_path: Path) -> None:
    f = await atempfile.NamedTemporaryFile(dir=tmp_path)
    await f.write(b"x")
    name = f.name
    if sys.version_info >= (3, 14):
        with pytest.warns(ResourceWarning, match="Implicitly cleaning up"):
            del f
    else:
        del f
    assert not os.path.exists(name)


async def test_the_wrapper_iterates_and_keeps_its_file_for_a_method(
    tmp_path: Path,
) -> None:
    write = (await atempfile.NamedTemporaryFile("w+", dir=tmp_path)).write
    await write("still there\n")  # the wrapper is gone, its closer is not
    assert len(list(tmp_path.iterdir())) == 1
    async with atempfile.NamedTemporaryFile("w+", dir=tmp_path) as f:
        await f.write("a\nb\n")
        await f.seek(0)
        assert [line async for line in f] == ["a\n", "b\n"]
    if sys.version_info >= (3, 14):
        with pytest.warns(ResourceWarning, match="Implicitly cleaning up"):
            del write
    else:
        del write
    assert list(tmp_path.iterdir()) == []


# -- SpooledTemporaryFile ------------------------------------------------------------


async def _spooled_run(
    spooled: Any, writes: list[Any], ours: bool
) -> list[tuple[Any, ...]]:
    async def call(result: Any) -> Any:
        return await result if ours else result

    seen = []
    for data in writes:
        await call(spooled.write(data))
        seen.append(
            (spooled._rolled, spooled.tell(), spooled.mode, spooled.name is None)
        )
    await call(spooled.seek(0))
    seen.append((await call(spooled.read()),))
    return seen


@pytest.mark.parametrize(
    ("mode", "writes"),
    [("w+b", [b"12345", b"678", b"9abc", b"d"]), ("w+", ["héllo", "wörld\n", "!"])],
)
async def test_spooled_rolls_over_as_tempfile(mode: str, writes: list[Any]) -> None:
    kwargs = {} if "b" in mode else {"encoding": "utf-8"}
    theirs = tempfile.SpooledTemporaryFile(10, mode, **kwargs)  # noqa: SIM115
    expected = await _spooled_run(theirs, writes, ours=False)
    theirs.close()
    async with atempfile.SpooledTemporaryFile(10, mode, **kwargs) as ours:
        assert await _spooled_run(ours, writes, ours=True) == expected
        assert type(ours._file).__module__ == "asyncfile"
    assert ours.closed


async def test_spooled_rollover_fileno_and_truncate(tmp_path: Path) -> None:
    async with atempfile.SpooledTemporaryFile(100, dir=tmp_path) as f:
        await f.write(b"abcdef")
        await f.seek(2)
        assert not f._rolled
        assert isinstance(f._file, io.BytesIO)
        await f.rollover()
        assert f._rolled
        assert f.tell() == 2
        assert await f.read() == b"cdef"
        assert isinstance(await f.fileno(), int)
    async with atempfile.SpooledTemporaryFile(100, dir=tmp_path) as f:
        fd = await f.fileno()  # a descriptor needs a file: rolled over
        assert f._rolled
        assert f.name == fd
    theirs = tempfile.SpooledTemporaryFile(4)  # noqa: SIM115
    theirs.truncate(5)
    async with atempfile.SpooledTemporaryFile(4) as f:
        await f.truncate(5)
        assert f._rolled == theirs._rolled
    theirs.close()
    assert list(tmp_path.iterdir()) == []


async def test_spooled_writelines_rolls_over_midway() -> None:
    async with atempfile.SpooledTemporaryFile(3, "w+", encoding="utf-8") as f:
        await f.writelines(["ab", "cd", "ef"])
        assert f._rolled
        await f.seek(0)
        assert await f.read() == "abcdef"


async def test_a_spooled_rollover_cancelled_keeps_the_data_in_memory(
    tmp_path: Path,
) -> None:
    for turns in range(8):
        f = atempfile.SpooledTemporaryFile(1000, dir=tmp_path)
        await f.write(b"kept")
        task = asyncio.ensure_future(f.rollover())
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            assert not f._rolled
        await f.seek(0)
        assert await f.read() == b"kept"
        await f.close()
    assert list(tmp_path.iterdir()) == []


# -- TemporaryDirectory ---------------------------------------------------------------


async def test_temporary_directory_is_tempfiles(tmp_path: Path) -> None:
    async with atempfile.TemporaryDirectory(prefix="d", dir=tmp_path) as name:
        assert isinstance(name, str)
        assert NAME.fullmatch(os.path.basename(name)[1:])
        nested = Path(name, "a", "b")
        nested.mkdir(parents=True)
        (nested / "f").write_bytes(b"x")
        if PERMISSIONS.present:
            (nested / "f").chmod(0o400)
            nested.chmod(0o500)  # tempfile's removal makes it writable again
    assert list(tmp_path.iterdir()) == []
    directory = await atempfile.TemporaryDirectory(dir=tmp_path)
    assert os.path.isdir(directory.name)
    assert repr(directory) == f"<TemporaryDirectory {directory.name!r}>"
    await directory.cleanup()
    await directory.cleanup()  # again: nothing to do
    assert list(tmp_path.iterdir()) == []


async def test_temporary_directory_removed_when_the_body_is_cancelled(
    tmp_path: Path,
) -> None:
    started = asyncio.Event()

    async def body() -> None:
        async with atempfile.TemporaryDirectory(dir=tmp_path) as name:
            Path(name, "f").write_bytes(b"x")
            started.set()
            await asyncio.sleep(60)

    task = asyncio.ensure_future(body())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not DELETE_ON_CLOSE, reason="delete= is a 3.12 argument")
async def test_temporary_directory_delete_false_as_tempfile(tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path, delete=False) as theirs:
        pass
    async with atempfile.TemporaryDirectory(dir=tmp_path, delete=False) as ours:
        pass
    assert os.path.isdir(theirs)
    assert os.path.isdir(ours)
    os.rmdir(theirs)
    os.rmdir(ours)


async def test_temporary_directory_cleanup_errors(tmp_path: Path) -> None:
    """A directory that vanished mid-way: ignore_cleanup_errors as tempfile."""
    async with atempfile.TemporaryDirectory(
        dir=tmp_path, ignore_cleanup_errors=True
    ) as name:
        os.rmdir(name)
    directory = await atempfile.TemporaryDirectory(dir=tmp_path)
    os.rmdir(directory.name)
    await directory.cleanup()  # tempfile's removal: a missing tree is no error
    theirs = tempfile.TemporaryDirectory(dir=tmp_path)
    os.rmdir(theirs.name)
    theirs.cleanup()


async def test_temporary_directory_collected_is_removed_with_a_warning(
    tmp_path: Path,
) -> None:
    directory = await atempfile.TemporaryDirectory(dir=tmp_path)
    with pytest.warns(ResourceWarning, match="Implicitly cleaning up"):
        del directory
    assert list(tmp_path.iterdir()) == []
