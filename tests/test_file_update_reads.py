"""The one place asyncfile does not follow the running Python's io: reading
a file opened for update ("+") right after a write, without a seek, gives
what Python 3.13's io gives on every version (io before 3.13 read stale
bytes there and then wrote the pending ones at the wrong place).  README's
"What it is" and file.py say so; this pins both behaviours."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from asyncfile.file import open as aopen

CONTENT = b"0123456789\n"
#: (what read(3) returns, tell() after it, the bytes on disk after a write)
AS_313 = ("234", 5, b"ab23456789\nZ")
AS_BEFORE_313 = ("012", 5, b"0123456789\nabZ")


def _io_run(path: Path) -> tuple[str, int, bytes]:
    with open(path, "r+", encoding="utf-8") as f:
        f.write("ab")
        text = f.read(3)
        position = f.tell()
        f.write("Z")
    return text, position, path.read_bytes()


async def _asyncfile_run(path: Path) -> tuple[str, int]:
    async with aopen(path, "r+", encoding="utf-8") as f:
        await f.write("ab")
        text = await f.read(3)
        position = f.tell()
        await f.write("Z")
    return text, position


async def test_text_read_after_a_write_without_a_seek_is_313s_on_every_version(
    tmp_path: Path,
) -> None:
    path = tmp_path / "af"
    path.write_bytes(CONTENT)
    text, position = await _asyncfile_run(path)
    assert (text, position, path.read_bytes()) == AS_313


@pytest.mark.parametrize(
    "expected",
    [AS_313 if sys.version_info >= (3, 13) else AS_BEFORE_313],
    ids=["this-python"],
)
def test_io_of_this_python_does_what_the_documentation_says(
    tmp_path: Path, expected: tuple[str, int, bytes]
) -> None:
    """If this fails, the running Python's io changed: update README/file.py."""
    (tmp_path / "io").write_bytes(CONTENT)
    assert _io_run(tmp_path / "io") == expected
