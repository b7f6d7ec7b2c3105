"""Benchmark cases: the work a measured process times, and how it checks it.

A case names the *interface* it drives (``Case.api``). Every contender says
which interfaces it offers (see :mod:`benchmarks.contenders`); a contender is
run only on the cases whose ``api`` it offers.

``"core"``: caio-style positional reads, ``await ctx.read(nbytes, fd, offset)``
(:class:`CoreHandle`). File-level cases (``asyncfile.open`` against aiofile,
aiofiles, anyio) will add an ``api`` of their own with a handle type and case
bodies beside these; nothing else here needs to change.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

PAGE = 4096

AsyncRead = Callable[[int, int, int], Awaitable[bytes]]
"""``read(nbytes, fd, offset)``: the caio ``AsyncioContext.read`` shape."""

BlockingPread = Callable[[int, int, int], bytes]
"""``pread(fd, nbytes, offset)``: the ``os.pread`` shape."""


@dataclass(frozen=True)
class CoreHandle:
    """A contender's positional reader; exactly one of the two is set.

    ``blocking`` readers run on the loop thread without ever awaiting, so the
    heartbeat shows how long they hold the loop.
    """

    read: AsyncRead | None = None
    blocking: BlockingPread | None = None


@dataclass(frozen=True)
class Case:
    """Random aligned reads of ``block`` bytes with ``depth`` reads in flight.

    ``depth`` lanes (tasks) each await their reads one after another; lane
    ``i`` gets offsets ``i, i + depth, ...`` of the shared sequence, so the
    total work is the same at every depth.
    """

    name: str
    title: str
    depth: int
    block: int = PAGE
    api: str = "core"

    def lanes(self, offsets: Sequence[int]) -> list[Sequence[int]]:
        """Split ``offsets`` among the lanes (done before timing)."""
        if self.depth == 1:
            return [offsets]
        return [offsets[i :: self.depth] for i in range(self.depth)]

    async def run(self, handle: CoreHandle, fd: int, lanes: list[Sequence[int]]) -> int:
        """Do every read of ``lanes``; return the number of bytes read."""
        if handle.blocking is not None:
            blocking = handle.blocking
            return sum([_blocking_lane(blocking, fd, ln, self.block) for ln in lanes])
        read = handle.read
        if read is None:
            raise TypeError("CoreHandle has neither read nor blocking")
        if len(lanes) == 1:
            return await _async_lane(read, fd, lanes[0], self.block)
        lane_coros = (_async_lane(read, fd, ln, self.block) for ln in lanes)
        return sum(await asyncio.gather(*lane_coros))

    async def verify(self, handle: CoreHandle, fd: int, offsets: Sequence[int]) -> None:
        """Compare reads at ``offsets`` (all in flight at once) to ``os.pread``.

        Raises ``AssertionError`` naming the first offset that differs, so a
        contender returning wrong or short data cannot post a time.
        """
        if handle.blocking is not None:
            got = [handle.blocking(fd, self.block, off) for off in offsets]
        elif handle.read is not None:
            read = handle.read
            got = await asyncio.gather(*(read(self.block, fd, o) for o in offsets))
        else:
            raise TypeError("CoreHandle has neither read nor blocking")
        for offset, data in zip(offsets, got, strict=True):
            expected = os.pread(fd, self.block, offset)
            if bytes(data) != expected:
                raise AssertionError(
                    f"read({self.block}, fd, {offset}) returned {len(data)} bytes "
                    f"that differ from os.pread"
                )


async def _async_lane(
    read: AsyncRead, fd: int, offsets: Sequence[int], size: int
) -> int:
    total = 0
    for offset in offsets:
        total += len(await read(size, fd, offset))
    return total


def _blocking_lane(
    pread: BlockingPread, fd: int, offsets: Sequence[int], size: int
) -> int:
    total = 0
    for offset in offsets:
        total += len(pread(fd, size, offset))
    return total


CASES: dict[str, Case] = {
    case.name: case
    for case in (
        Case("qd1", "4 KiB random reads, one at a time", depth=1),
        Case("qd64", "4 KiB random reads, 64 in flight", depth=64),
    )
}
