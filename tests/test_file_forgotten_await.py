"""Forgetting ``await``: the opener, and aiofile's wrappers and handles before
they are opened, say what to do instead of a bare AttributeError."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import asyncfile
from asyncfile.file import NotOpenedError

FILE_ATTRIBUTES = [
    "read", "write", "readline", "readlines", "close", "seek", "tell", "flush",
    "name", "mode", "closed", "fileno", "encoding", "buffer", "raw", "pread",
    "iter_chunked", "__aiter__",
]  # fmt: skip


@pytest.mark.parametrize("name", FILE_ATTRIBUTES)
def test_file_attribute_of_the_opener_says_to_await_it(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / "f"
    opener = asyncfile.open(path, "w", encoding="utf-8")
    with pytest.raises(NotOpenedError) as raised:
        getattr(opener, name)
    error = raised.value
    assert isinstance(error, AttributeError)
    assert error.name == name
    assert error.obj is opener
    message = str(error)
    assert message.startswith(f"'FileOpener' object has no attribute '{name}'")
    assert "f = await asyncfile.open(...)" in message
    assert "async with asyncfile.open(...) as f:" in message
    assert not hasattr(opener, name)
    assert getattr(opener, name, None) is None
    assert not path.exists()  # the opener was never awaited


def test_other_attributes_of_the_opener_raise_a_plain_attribute_error(
    tmp_path: Path,
) -> None:
    opener = asyncfile.open(tmp_path / "f", "w", encoding="utf-8")
    with pytest.raises(AttributeError) as raised:
        opener.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
    assert type(raised.value) is AttributeError
    assert str(raised.value) == "'FileOpener' object has no attribute 'no_such_thing'"


async def test_the_opener_still_opens_after_the_error(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("text", encoding="utf-8")
    opener = asyncfile.open(path, encoding="utf-8")
    assert not hasattr(opener, "read")
    async with opener as f:
        assert await f.read() == "text"


async def test_an_unopened_async_open_wrapper_says_to_await_it(tmp_path: Path) -> None:
    """Same type as before (ValueError, as for a closed file), with what to do."""
    path = tmp_path / "f"
    path.write_bytes(b"data")
    for mode in ("rb", "r"):
        wrapper = asyncfile.async_open(path, mode)
        with pytest.raises(ValueError, match=r"await async_open\(\.\.\.\)"):
            await wrapper.read()
        await wrapper.close()
    afp = asyncfile.AIOFile(path, "rb")
    with pytest.raises(asyncio.InvalidStateError, match="'await afp'"):
        await afp.read()


async def test_a_closed_async_open_wrapper_says_it_is_closed(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"data")
    async with asyncfile.async_open(path, "rb") as wrapper:
        pass
    with pytest.raises(ValueError, match=r"^I/O operation on closed file\.$"):
        await wrapper.read()
