"""asyncfile.os.scandir streams, and asyncfile.os.walk walks as os.walk."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from platforms import DIRECTORY_FDS, POSIX_FS

import asyncfile.os as aos
from asyncfile.os import _listing

ENTRIES = 5_000  # seven batches


@pytest.fixture
def big(tmp_path: Path) -> Path:
    directory = tmp_path / "big"
    directory.mkdir()
    for i in range(ENTRIES):
        (directory / f"{i:05d}").touch()
    return directory


async def test_scandir_yields_the_first_entry_before_the_directory_is_read(
    big: Path,
) -> None:
    async with aos.scandir(big) as entries:
        first = await entries.__anext__()
        assert isinstance(first, os.DirEntry)
        assert entries.entries_read == _listing.FIRST_BATCH < ENTRIES
        rest = [entry.name async for entry in entries]
    assert sorted([first.name, *rest]) == sorted(os.listdir(big))
    assert entries.entries_read == ENTRIES


async def test_scandir_gives_the_loop_turns_while_it_reads(big: Path) -> None:
    """Batches come from a worker thread: other tasks run between them."""
    ticks = 0
    done = False

    async def ticker() -> None:
        nonlocal ticks
        while not done:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.ensure_future(ticker())
    count = 0
    async for _ in aos.scandir(big):
        count += 1
    done = True
    await task
    assert count == ENTRIES
    assert ticks >= 5


async def test_scandir_entries_are_os_entries_with_their_types(
    tmp_path: Path,
) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_bytes(b"x")
    ours = {e.name: e async for e in aos.scandir(tmp_path)}
    with os.scandir(tmp_path) as found:
        theirs = {e.name: e for e in found}
    assert ours.keys() == theirs.keys()
    for name, entry in ours.items():
        assert entry.path == theirs[name].path
        assert entry.is_dir() == theirs[name].is_dir()
        assert entry.is_file() == theirs[name].is_file()
        assert entry.inode() == theirs[name].inode()
        result = await aos.stat(entry, follow_symlinks=False)
        assert result.st_ino == entry.inode()


async def test_scandir_of_bytes_yields_bytes_names(tmp_path: Path) -> None:
    (tmp_path / "a").touch()
    names = [e.name async for e in aos.scandir(os.fsencode(tmp_path))]
    assert names == [b"a"]


@pytest.mark.parametrize("where", ["missing", "file", "nul"])
async def test_awaiting_scandir_raises_what_os_scandir_raises(
    tmp_path: Path, where: str
) -> None:
    (tmp_path / "file").touch()
    path = {"nul": str(tmp_path / "a\0b")}.get(where, str(tmp_path / where))
    with pytest.raises((OSError, ValueError)) as theirs:
        os.scandir(path)
    with pytest.raises(type(theirs.value)) as ours:
        await aos.scandir(path)
    assert ours.value.args == theirs.value.args
    assert getattr(ours.value, "filename", None) == getattr(
        theirs.value, "filename", None
    )


async def test_a_listing_left_early_or_cancelled_closes_its_directory(
    big: Path,
) -> None:
    """The no_leaks fixture fails the test if a directory stays open."""
    async for _ in aos.scandir(big):
        break
    async with aos.scandir(big) as entries:
        await entries.__anext__()

    async def read_all() -> int:
        return len([e async for e in aos.scandir(big)])

    task = asyncio.ensure_future(read_all())
    await asyncio.sleep(0.001)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    entries = aos.scandir(big)
    await entries.__anext__()
    await entries.aclose()
    with pytest.raises(StopAsyncIteration):
        await entries.__anext__()


@DIRECTORY_FDS.mark
async def test_scandir_of_a_descriptor_lists_it(tmp_path: Path) -> None:
    (tmp_path / "x").touch()
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        names = [e.name async for e in aos.scandir(fd)]
    finally:
        os.close(fd)
    assert names == ["x"]


def make_tree(root: Path) -> Path:
    for path in ("a/b/c", "a/skip/deep", "d", "e/f"):
        (root / path).mkdir(parents=True)
    for path in ("top.txt", "a/one", "a/b/two", "a/skip/deep/three", "e/f/four"):
        (root / path).write_text(path)
    return root


async def _walk(top: Any, **options: Any) -> list[Any]:
    return [(t, list(d), list(f)) async for t, d, f in aos.walk(top, **options)]


@pytest.mark.parametrize("topdown", [True, False])
async def test_walk_gives_os_walks_triples_in_its_order(
    tmp_path: Path, topdown: bool
) -> None:
    root = make_tree(tmp_path)
    theirs = [(t, d, f) for t, d, f in os.walk(root, topdown=topdown)]
    assert await _walk(root, topdown=topdown) == theirs
    assert await _walk(os.fsencode(root), topdown=topdown) == [
        (t, d, f) for t, d, f in os.walk(os.fsencode(root), topdown=topdown)
    ]


async def test_walk_topdown_prunes_the_directories_removed_from_dirnames(
    tmp_path: Path,
) -> None:
    root = make_tree(tmp_path)
    theirs = []
    for top, dirs, files in os.walk(root):
        theirs.append((top, sorted(files)))
        dirs[:] = [d for d in dirs if d != "skip"]
        dirs.sort(reverse=True)
    ours = []
    async for top, dirs, files in aos.walk(root):
        ours.append((top, sorted(files)))
        dirs[:] = [d for d in dirs if d != "skip"]
        dirs.sort(reverse=True)
    assert ours == theirs
    assert not any("skip" in top for top, _ in ours)


async def test_walk_calls_onerror_with_os_walks_errors(tmp_path: Path) -> None:
    theirs: list[OSError] = []
    ours: list[OSError] = []
    missing = tmp_path / "missing"
    assert list(os.walk(missing, onerror=theirs.append)) == []
    assert await _walk(missing, onerror=ours.append) == []
    assert [(type(e), e.errno, e.filename) for e in ours] == [
        (type(e), e.errno, e.filename) for e in theirs
    ]


@POSIX_FS.mark
@pytest.mark.parametrize("followlinks", [True, False])
async def test_walk_follows_links_only_when_asked(
    tmp_path: Path, followlinks: bool
) -> None:
    root = make_tree(tmp_path / "tree")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "o").touch()
    os.symlink(tmp_path / "outside", root / "link")
    for topdown in (True, False):
        theirs = list(os.walk(root, topdown=topdown, followlinks=followlinks))
        ours = await _walk(root, topdown=topdown, followlinks=followlinks)
        assert ours == [(t, d, f) for t, d, f in theirs]
        walked_outside = any(t.endswith("link") for t, _, _ in ours)
        assert walked_outside is followlinks
