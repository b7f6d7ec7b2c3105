"""Under trio asyncfile raises one clear error, AsyncioRequiredError (a
RuntimeError), at every entry point that awaits, before it touches the file
system: it runs in asyncio's event loops only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import asyncfile
from asyncfile import streams
from asyncfile.contexts import AsyncioRequiredError

trio = pytest.importorskip("trio", reason="trio is not installed (in the test extra)")

Entry = Callable[[Path], Awaitable[Any]]


async def _open(path: Path) -> None:
    await asyncfile.open(path, "w", encoding="utf-8")


async def _open_entered(path: Path) -> None:
    async with asyncfile.open(path, "wb"):
        pass


async def _open_descriptor(path: Path) -> None:
    await asyncfile.open(0, "rb", closefd=False)


async def _async_open(path: Path) -> None:
    await asyncfile.async_open(path, "w")


async def _async_open_entered(path: Path) -> None:
    async with asyncfile.async_open(path, "wb"):
        pass


async def _aiofile(path: Path) -> None:
    await asyncfile.AIOFile(path, "w")


async def _aiofile_open(path: Path) -> None:
    await asyncfile.AIOFile(path, "w").open()


async def _chunk_reader(path: Path) -> None:
    async for _chunk in streams.ChunkReader(path):
        pass


async def _line_stream(path: Path) -> None:
    async for _line in streams.LineStream(path):
        pass


async def _write_behind_entered(path: Path) -> None:
    async with streams.WriteBehindWriter(path):
        pass


async def _write_behind_write(path: Path) -> None:
    await streams.WriteBehindWriter(path).write(b"record")


ENTRIES: dict[str, Entry] = {
    "open": _open,
    "open-async-with": _open_entered,
    "open-descriptor": _open_descriptor,
    "async_open": _async_open,
    "async_open-async-with": _async_open_entered,
    "AIOFile": _aiofile,
    "AIOFile.open": _aiofile_open,
    "ChunkReader": _chunk_reader,
    "LineStream": _line_stream,
    "WriteBehindWriter-async-with": _write_behind_entered,
    "WriteBehindWriter.write": _write_behind_write,
}


def _raised_under_trio(entry: Entry, path: Path) -> BaseException:
    async def main() -> None:
        await entry(path)

    with pytest.raises(AsyncioRequiredError) as raised:
        trio.run(main)
    return raised.value


@pytest.mark.parametrize("name", ENTRIES)
def test_entry_points_under_trio_say_asyncfile_needs_asyncio(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / "f"
    reads = name in ("ChunkReader", "LineStream")
    if reads:
        path.write_bytes(b"line\n")
    error = _raised_under_trio(ENTRIES[name], path)
    assert isinstance(error, RuntimeError)
    assert "needs a running asyncio event loop" in str(error)
    assert "this is trio" in str(error)
    if reads:
        assert path.read_bytes() == b"line\n"
    else:
        assert not path.exists()  # nothing was created


async def _open_in_asyncio(path: Path, mode: str, **kwargs: Any) -> Any:
    return await asyncfile.open(path, mode, **kwargs)


@pytest.mark.parametrize(
    ("mode", "kwargs"), [("rb", {}), ("r+b", {}), ("r", {"encoding": "utf-8"})]
)
@pytest.mark.parametrize(
    "call",
    ["read()", "read(2)", "readline()", "seek(1)", "flush()", "close()", "pread(2, 0)"],
)
def test_file_methods_under_trio_say_asyncfile_needs_asyncio(
    tmp_path: Path, mode: str, kwargs: dict[str, Any], call: str
) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"0123456789\n")
    f = asyncio.run(_open_in_asyncio(path, mode, **kwargs))
    try:

        async def main() -> None:
            await eval(f"f.{call}", {"f": f})

        with pytest.raises(AsyncioRequiredError, match="this is trio"):
            trio.run(main)
    finally:
        asyncio.run(f.close())
    assert path.read_bytes() == b"0123456789\n"


def test_outside_any_loop_the_error_says_none_runs(tmp_path: Path) -> None:
    """A coroutine driven by hand: the same error, without naming trio."""
    opening = asyncfile.open(tmp_path / "f", "wb").__await__()
    with pytest.raises(AsyncioRequiredError, match=r"^no running event loop: "):
        opening.send(None)
    assert not (tmp_path / "f").exists()
