"""Before the O_DIRECT case, the runner reads its whole data file once past
the page cache, so that fio and every contender find the same blocks near."""

from __future__ import annotations

from pathlib import Path

import pytest
from mounts import skip_if_memory_backed

from benchmarks import datafile


def _io_counts() -> dict[str, int]:
    """``rchar``: bytes this process's reads returned; ``read_bytes``: bytes it
    had the block layer read from a device."""
    try:
        text = Path("/proc/self/io").read_text()
    except OSError as exc:
        pytest.skip(f"no /proc/self/io (task I/O accounting) here: {exc}")
    return {
        name: int(value) for name, value in (ln.split(": ") for ln in text.splitlines())
    }


def test_reads_every_byte_with_o_direct(tmp_path: Path) -> None:
    skip_if_memory_backed(tmp_path, "O_DIRECT needs a block device")
    path = datafile.create(tmp_path, 3 * datafile.CHUNK + 8192, seed=1)
    size = path.stat().st_size  # every page cached by create()
    before = _io_counts()
    datafile.read_past_the_page_cache(path)
    after = _io_counts()
    returned = after["rchar"] - before["rchar"]  # and the bytes of /proc/self/io
    assert size <= returned < size + 4096
    assert after["read_bytes"] - before["read_bytes"] >= size, "served from the cache"
