"""AsyncFileHandler's rotation runs in a worker thread, never on the loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from pathlib import Path

from asyncfile import AsyncFileHandler

ROLLOVER_SECONDS = 0.3


def slow_rotation(
    log: logging.Logger, path: Path, threads: list[int]
) -> AsyncFileHandler:
    """A handler of 100-byte files whose rollovers take ROLLOVER_SECONDS,
    recording the thread each ran in."""
    handler = AsyncFileHandler(path, maxBytes=100, backupCount=2)
    handler.setFormatter(logging.Formatter("%(message)s"))
    rollover = handler._rollover

    def slow() -> None:
        threads.append(threading.get_ident())
        time.sleep(ROLLOVER_SECONDS)
        rollover()

    handler._rollover = slow  # type: ignore[method-assign]
    log.addHandler(handler)
    return handler


def assert_rotated(path: Path, last: int) -> None:
    """Every file under 100 bytes; the newest records, in order, across them."""
    files = [Path(f"{path}.2"), Path(f"{path}.1"), path]
    assert all(f.stat().st_size < 100 for f in files)
    kept = [line for f in files for line in f.read_text().splitlines()]
    assert kept == [f"line {i:02d}" for i in range(last + 1 - len(kept), last + 1)]


async def test_a_slow_rotation_does_not_hold_the_loop(
    tmp_path: Path, logger: logging.Logger
) -> None:
    path = tmp_path / "app.log"
    threads: list[int] = []
    handler = slow_rotation(logger, path, threads)
    for i in range(30):
        logger.info("line %02d", i)  # 8 bytes each: two rollovers
    closing = asyncio.ensure_future(handler.aclose())
    worst_gap = 0.0
    last = time.monotonic()
    while not closing.done():
        await asyncio.sleep(0.005)
        now = time.monotonic()
        worst_gap, last = max(worst_gap, now - last), now
    await closing
    assert len(threads) == 2
    assert threading.get_ident() not in threads
    assert worst_gap < ROLLOVER_SECONDS / 2
    assert_rotated(path, last=29)


async def test_records_emitted_during_a_rotation_follow_it(
    tmp_path: Path, logger: logging.Logger
) -> None:
    path = tmp_path / "app.log"
    threads: list[int] = []
    handler = slow_rotation(logger, path, threads)
    for i in range(12):
        logger.info("line %02d", i)  # 96 bytes: the next record rolls over
    await asyncio.sleep(0.01)
    for i in range(12, 30):
        logger.info("line %02d", i)
        await asyncio.sleep(0.01)  # the first ones while a rollover runs
    await handler.aclose()
    assert len(threads) == 2
    assert_rotated(path, last=29)


def test_a_blocking_drain_waits_for_a_rotation_in_flight(
    tmp_path: Path, logger: logging.Logger
) -> None:
    """The loop stops while a rollover runs in its thread: ``close()`` then
    writes what is left after that rollover, into the new file."""
    path = tmp_path / "app.log"
    threads: list[int] = []
    handler = slow_rotation(logger, path, threads)

    async def main() -> None:
        for i in range(30):
            logger.info("line %02d", i)
        deadline = time.monotonic() + 10  # a loaded machine starts threads late
        while True:
            if threads or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.005)
        assert threads, "no rollover started"

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(main())  # stops with the rollover in its thread
        handler.close()
        assert_rotated(path, last=29)
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


def test_a_rotation_the_executor_never_started_is_made_by_close(
    tmp_path: Path, logger: logging.Logger
) -> None:
    """``asyncio.run`` ends while the rollover waits for a busy executor: the
    job is cancelled unstarted, and ``close()`` makes the rollover first."""
    path = tmp_path / "app.log"
    threads: list[int] = []
    slow_rotation(logger, path, threads)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(1))
        busy = loop.run_in_executor(None, time.sleep, ROLLOVER_SECONDS)
        for i in range(30):
            logger.info("line %02d", i)
        await asyncio.sleep(0.05)  # the rollover waits behind the sleep
        assert not threads
        busy.cancel()  # too late: it runs on, and asyncio.run waits for it

    asyncio.run(main())
    for handler in logger.handlers:
        handler.close()
    assert threads == [threading.get_ident()] * 2  # both made by close()
    assert_rotated(path, last=29)
