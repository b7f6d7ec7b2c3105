"""asyncfile.shutil: copyfile copies in the kernel and raises as shutil
does; rmtree never follows a link out of the tree; both stop cleanly when
cancelled."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from platforms import DIRECTORY_FDS, FIFO, LINUX, POSIX_FS

import asyncfile.shutil as ashutil

MiB = 1 << 20


def _outcome(call: Any) -> Any:
    try:
        return ("returned", call())
    except Exception as error:  # the exception is the outcome
        return (
            type(error),
            str(error),
            getattr(error, "errno", None),
            getattr(error, "filename", None),
            getattr(error, "filename2", None),
        )


async def _async_outcome(call: Any) -> Any:
    try:
        return ("returned", await call())
    except Exception as error:  # the exception is the outcome
        return (
            type(error),
            str(error),
            getattr(error, "errno", None),
            getattr(error, "filename", None),
            getattr(error, "filename2", None),
        )


def _normal(value: Any, root: Path) -> Any:
    """``value`` with ``root`` written ``<root>`` wherever it shows (a
    path returned, a filename, an error's words), its type kept."""
    if isinstance(value, tuple | list):
        return tuple(_normal(item, root) for item in value)
    if isinstance(value, bytes | os.PathLike):
        return (type(value).__name__, _normal(os.fsdecode(value), root))
    if isinstance(value, str):
        for form in (str(root), repr(str(root))[1:-1], root.as_posix()):
            value = value.replace(form, "<root>")
    return value


def _read_at(path: Path, offset: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(4096)


def _bytes_of(path: Any) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _size(path: Any) -> int:
    return os.stat(path).st_size


def _size_or_none(path: Any) -> int | None:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return None


def _copy_cases(tmp_path: Path) -> dict[str, tuple[Any, Any]]:
    src = tmp_path / "src"
    src.write_bytes(b"payload" * 1000)
    (tmp_path / "dir").mkdir()
    os.link(src, tmp_path / "hard")
    return {
        "to a new file": (src, tmp_path / "new"),
        "over a file": (src, tmp_path / "hard2"),
        "onto itself": (src, src),
        "onto a hard link of itself": (src, tmp_path / "hard"),
        "from a directory": (tmp_path / "dir", tmp_path / "x"),
        "onto a directory": (src, tmp_path / "dir"),
        "into a missing directory": (src, str(tmp_path / "nodir") + os.sep),
        "from a missing file": (tmp_path / "missing", tmp_path / "y"),
        "as str": (str(src), str(tmp_path / "s")),
        "as bytes": (os.fsencode(src), os.fsencode(tmp_path / "b")),
    }


@pytest.mark.parametrize(
    "case",
    [
        "to a new file",
        "over a file",
        "onto itself",
        "onto a hard link of itself",
        "from a directory",
        "onto a directory",
        "into a missing directory",
        "from a missing file",
        "as str",
        "as bytes",
    ],
)
async def test_copyfile_returns_and_raises_what_shutil_does(
    tmp_path: Path, case: str
) -> None:
    theirs_root, ours_root = tmp_path / "theirs", tmp_path / "ours"
    theirs_root.mkdir()
    ours_root.mkdir()
    src, dst = _copy_cases(theirs_root)[case]
    want = _outcome(lambda: shutil.copyfile(src, dst))
    src, dst = _copy_cases(ours_root)[case]
    got = await _async_outcome(lambda: ashutil.copyfile(src, dst))
    assert _normal(got, ours_root) == _normal(want, theirs_root)
    if want[0] == "returned":
        assert _bytes_of(dst) == _bytes_of(src)


@FIFO.mark
async def test_copyfile_refuses_a_named_pipe_as_shutil_does(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "f").write_bytes(b"x")
    for src, dst in (("fifo", "g"), ("f", "fifo")):
        with pytest.raises(shutil.SpecialFileError) as theirs:
            shutil.copyfile(tmp_path / src, tmp_path / dst)
        with pytest.raises(ashutil.SpecialFileError) as ours:
            await ashutil.copyfile(tmp_path / src, tmp_path / dst)
        assert str(ours.value) == str(theirs.value)


@POSIX_FS.mark
async def test_copyfile_without_following_copies_the_link(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    os.symlink("f", tmp_path / "link")
    got = await ashutil.copyfile(
        tmp_path / "link", tmp_path / "copy", follow_symlinks=False
    )
    assert got == tmp_path / "copy"
    assert os.readlink(tmp_path / "copy") == "f"
    await ashutil.copyfile(tmp_path / "link", tmp_path / "data")
    assert _bytes_of(tmp_path / "data") == b"x"


def _sparse(path: Path, size: int) -> bytes:
    """A file of ``size`` bytes, a hole but for a head and a tail."""
    head, tail = os.urandom(4096), os.urandom(4096)
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)
        f.seek(size - len(tail))
        f.write(tail)
    return head + tail


async def test_copyfile_moves_the_bytes_in_the_kernel(tmp_path: Path) -> None:
    """A 64 MiB file is copied with no Python object anywhere near its
    size: tracemalloc's peak stays under a MiB (only where the kernel
    has no copy of its own, Windows and macOS, does a 1 MiB buffer serve)."""
    size = 64 * MiB
    ends = _sparse(tmp_path / "big", size)
    tracemalloc.start()
    try:
        await ashutil.copyfile(tmp_path / "big", tmp_path / "copy")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    in_kernel = hasattr(os, "copy_file_range") or sys.platform.startswith("linux")
    assert peak < (MiB if in_kernel else 3 * MiB), peak
    assert _size(tmp_path / "copy") == size
    copy = tmp_path / "copy"
    assert _read_at(copy, 0) + _read_at(copy, size - 4096) == ends
    assert _read_at(copy, size // 2) == bytes(4096)


@LINUX.mark
async def test_a_cancelled_copy_stops_between_steps_and_closes_both_files(
    tmp_path: Path,
) -> None:
    """The no_leaks fixture fails the test on a descriptor left open; the
    copy holds whole steps of the source's bytes, as far as it went."""
    size = 512 * MiB
    _sparse(tmp_path / "big", size)
    task = asyncio.ensure_future(ashutil.copyfile(tmp_path / "big", tmp_path / "copy"))
    for _ in range(10_000):  # until the copy has begun
        if _size_or_none(tmp_path / "copy"):
            break
        await asyncio.sleep(0.0005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    copied = _size(tmp_path / "copy")
    assert copied < size
    assert copied % ashutil.COPY_STEP == 0
    await asyncio.sleep(0.05)
    assert os.stat(tmp_path / "copy").st_size == copied, "copying went on"


@POSIX_FS.mark
async def test_rmtree_removes_links_to_outside_and_never_what_they_point_to(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    (outside / "keep").mkdir(parents=True)
    (outside / "keep" / "precious").write_bytes(b"keep me")
    (outside / "file").write_bytes(b"keep me too")
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "f").write_bytes(b"x")
    os.symlink(outside, tree / "to_dir")
    os.symlink(outside / "file", tree / "sub" / "to_file")
    os.symlink(outside / "keep", tree / "sub" / "to_keep", target_is_directory=True)
    await ashutil.rmtree(tree)
    assert not tree.exists()
    assert (outside / "keep" / "precious").read_bytes() == b"keep me"
    assert (outside / "file").read_bytes() == b"keep me too"


@POSIX_FS.mark
async def test_rmtree_refuses_a_link_as_shutil_does(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "f").touch()
    os.symlink(tmp_path / "dir", tmp_path / "link")
    with pytest.raises(OSError) as theirs:  # noqa: PT011 (compared below)
        shutil.rmtree(tmp_path / "link")
    with pytest.raises(OSError) as ours:  # noqa: PT011 (compared below)
        await ashutil.rmtree(tmp_path / "link")
    assert (type(ours.value), ours.value.args, ours.value.filename) == (
        type(theirs.value),
        theirs.value.args,
        theirs.value.filename,
    )
    assert (tmp_path / "dir" / "f").exists()
    calls: list[Any] = []
    await ashutil.rmtree(tmp_path / "link", onerror=lambda *a: calls.append(a[:2]))
    assert calls == [(os.path.islink, tmp_path / "link")]


async def test_rmtree_reports_to_onerror_as_shutil_does(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    theirs: list[Any] = []
    ours: list[Any] = []
    shutil.rmtree(missing, onerror=lambda f, p, e: theirs.append((f, p, e[0])))
    await ashutil.rmtree(missing, onerror=lambda f, p, e: ours.append((f, p, e[0])))
    theirs_exc: list[Any] = []
    ours_exc: list[Any] = []
    if sys.version_info >= (3, 12):
        shutil.rmtree(missing, onexc=lambda f, p, e: theirs_exc.append((f, p, type(e))))
        await ashutil.rmtree(
            missing, onexc=lambda f, p, e: ours_exc.append((f, p, type(e)))
        )
        assert ours_exc == theirs_exc
    assert ours == theirs
    await ashutil.rmtree(missing, ignore_errors=True)
    with pytest.raises(FileNotFoundError) as error:
        await ashutil.rmtree(missing)
    assert error.value.filename == str(missing) or error.value.filename == missing


async def test_a_cancelled_rmtree_leaves_the_rest_and_no_descriptor(
    tmp_path: Path,
) -> None:
    tree = tmp_path / "tree"
    for i in range(50):
        (tree / f"d{i}").mkdir(parents=True)
        for j in range(20):
            (tree / f"d{i}" / f"f{j}").touch()
    task = asyncio.ensure_future(ashutil.rmtree(tree))

    def files_left() -> int:
        return sum(len(files) for _, _, files in os.walk(tree))

    # Looked at every loop turn (the removal gives the loop its turns), not
    # at intervals, and by count, not one file: the order of removal is the
    # directory's (on tmpfs the last file made goes first or last).
    for _ in range(100_000):  # until it has removed something
        if task.done() or files_left() < 1000:
            break
        await asyncio.sleep(0)
    assert not task.done(), "the removal ended between two loop turns"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert tree.exists()
    left = sum(len(files) for _, _, files in os.walk(tree))
    assert 0 < left < 1000
    await ashutil.rmtree(tree)
    assert not tree.exists()


@pytest.mark.parametrize("turns", range(0, 24, 3))
async def test_a_copy_or_rmtree_cancelled_while_opening_leaks_no_descriptor(
    tmp_path: Path, turns: int
) -> None:
    """Cancelled at any loop turn, even while a worker thread opens a file,
    the descriptor it opened is closed (the no_leaks fixture counts them)."""
    (tmp_path / "src").write_bytes(b"x" * 100_000)
    for i in range(5):
        (tmp_path / "tree" / f"d{i}").mkdir(parents=True)
    for call in (
        ashutil.copyfile(tmp_path / "src", tmp_path / "dst"),
        ashutil.rmtree(tmp_path / "tree"),
    ):
        task = asyncio.ensure_future(call)
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await asyncio.sleep(0.05)  # a callback that closes runs on the loop


@DIRECTORY_FDS.mark
@pytest.mark.skipif(sys.version_info < (3, 11), reason="dir_fd: Python 3.11 and newer")
async def test_rmtree_relative_to_a_directory_descriptor(tmp_path: Path) -> None:
    (tmp_path / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "tree" / "sub" / "f").touch()
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        await ashutil.rmtree("tree", dir_fd=fd)
    finally:
        os.close(fd)
    assert os.listdir(tmp_path) == []
