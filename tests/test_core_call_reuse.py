"""The native core's calls (what aread, awrite, astat... return) behave as
coroutines every time, whichever came before them."""

from __future__ import annotations

import gc
import os
import warnings
from pathlib import Path
from typing import Any

import pytest
from backends import Backend


def _never_awaited_warnings(context: Any, fd: int, count: int) -> list[str]:
    """Make ``count`` reads of ``fd`` in a row, drop each unawaited, and
    return the RuntimeWarnings that dropping them gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(count):
            call = context.read(16, fd, 0)
            del call
            gc.collect()
    return [str(w.message) for w in caught if w.category is RuntimeWarning]


async def test_every_call_dropped_unawaited_warns(
    native_backend: Backend, tmp_path: Path
) -> None:
    """A call never awaited warns when it goes, as a coroutine does; so does
    the next one, made where the last one's memory was (its finalizer ran
    there once already)."""
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 64)
    fd = os.open(path, os.O_RDONLY)
    try:
        async with native_backend.asyncio_module.AsyncioContext() as context:
            await context.read(16, fd, 0)  # bound to this loop: read starts in C
            messages = _never_awaited_warnings(context, fd, 3)
            # After them, awaited calls (in the kept memory) still work and
            # leave no warning.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                for _ in range(3):
                    assert await context.read(4, fd, 0) == b"xxxx"
                    gc.collect()
            assert [w for w in caught if w.category is RuntimeWarning] == []
    finally:
        os.close(fd)
    assert len(messages) == 3, messages
    assert all("was never awaited" in message for message in messages)


async def test_calls_in_a_cycle_then_reused_still_warn(
    native_backend: Backend, tmp_path: Path
) -> None:
    """A started call that the collector finalizes in a cycle leaves its
    memory finalized: a call made there later must still warn if it is
    never awaited."""
    path = tmp_path / "f.bin"
    path.write_bytes(b"y" * 64)
    fd = os.open(path, os.O_RDONLY)
    try:
        async with native_backend.asyncio_module.AsyncioContext() as context:
            holder: list[object] = []
            call = context.read(8, fd, 0)
            with pytest.raises(StopIteration):  # started, and done inline
                call.send(None)
            holder.append(call)
            holder.append(holder)  # a cycle only the collector frees
            del call, holder
            gc.collect()
            messages = _never_awaited_warnings(context, fd, 2)
    finally:
        os.close(fd)
    assert len(messages) == 2, messages
