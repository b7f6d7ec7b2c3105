"""``asyncfile.os.listdir`` on the core (getdents64 on the native pool, Linux):
the names, order, types and errors of ``os.listdir`` on every backend, in
several reads for a large directory, without the default executor, and no
descriptor left behind by a cancelled listing."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

import pytest
from platforms import LINUX, POSIX_IO
from test_filesystem_core import Runner, runner
from test_os_core_calls import run

import asyncfile.os as aos

pytestmark = POSIX_IO.mark

__all__ = ["runner"]  # the fixture, shared with test_filesystem_core


def outcome(call: Any) -> tuple[Any, ...]:
    try:
        return ("value", call())
    except OSError as exc:
        return ("raised", type(exc), exc.errno, exc.filename, exc.filename2)


async def async_outcome(call: Any) -> tuple[Any, ...]:
    try:
        return ("value", await call())
    except OSError as exc:
        return ("raised", type(exc), exc.errno, exc.filename, exc.filename2)


@pytest.fixture
def big(tmp_path: Path) -> Path:
    """A directory of 5,000 entries (many getdents64 reads), of odd names too."""
    directory = tmp_path / "big"
    directory.mkdir()
    for i in range(5000):
        (directory / f"entry-{i:05d}-{'x' * (i % 40)}").touch()
    (directory / "caf\u00e9").touch()
    (directory / os.fsdecode(b"raw-\xff")).touch()
    (directory / "sub").mkdir()
    return directory


def test_listdir_gives_os_listdirs_names_in_its_order(
    runner: Runner, big: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(big)
    (tmp_path / "file").touch()
    arguments: list[Any] = [
        str(big),
        os.fsencode(big),
        big,
        None,
        str(tmp_path / "missing"),
        os.fsencode(tmp_path / "missing"),
        str(tmp_path / "file"),
        Path(tmp_path / "file"),
        "",
    ]
    want = [outcome(lambda a=a: os.listdir(a)) for a in arguments]

    async def body() -> list[tuple[Any, ...]]:
        return [await async_outcome(lambda a=a: aos.listdir(a)) for a in arguments]

    assert run(body) == want
    assert len(want[0][1]) == 5003


@LINUX.mark
def test_listdir_runs_on_the_core_without_the_default_executor(
    runner: Runner, big: Path
) -> None:
    if runner.backend.name == "python":
        pytest.skip("the python backend lists on the default executor")
    from asyncfile.core import _aio

    if not _aio.GETDENTS:
        pytest.skip("this core has no getdents64 (the portable build): threads list")
    names = run(lambda: aos.listdir(big), refuse_executor=True)
    assert names == os.listdir(big)
    with pytest.raises(NotADirectoryError) as caught:
        run(lambda: aos.listdir(big / "entry-00000-"), refuse_executor=True)
    assert caught.value.filename == str(big / "entry-00000-")


def test_a_cancelled_listdir_leaves_no_descriptor_open(
    runner: Runner, big: Path
) -> None:
    def open_descriptors() -> int:
        return len(os.listdir("/proc/self/fd"))

    async def body() -> int:
        await aos.listdir(big)  # the loop's context and its descriptors exist
        before = open_descriptors()
        for delay in (0, 0, 0.0005, 0.001, 0.002):
            listing = asyncio.ensure_future(aos.listdir(big))
            await asyncio.sleep(delay)
            listing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listing
        for _ in range(400):  # a thread's listing ends on its own, in its time
            if open_descriptors() == before:
                break
            await asyncio.sleep(0.05)
        return open_descriptors() - before

    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("no /proc/self/fd here to count descriptors")
    assert run(body) == 0
