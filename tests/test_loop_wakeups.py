"""Every wake-up of an event loop from another thread reaches the loop.

asyncfile's pure-Python backend (Windows' backend) completes operations on
worker threads, which wake the loop through ``call_soon_threadsafe``: asyncio
then sends one byte on the loop's self-pipe and ignores a failed send.  Under
wine a send fails when another thread sends on the same socket at that moment,
and the loop, with a callback queued, slept on: scripts/test-windows makes those
sends go one at a time.  This checks, on every asyncio loop of the system, that
wake-ups sent from several threads at once all arrive.
"""

from __future__ import annotations

import asyncio
import select
import threading
from collections.abc import Callable

import pytest
from platforms import LOOP_FACTORIES

SELF_PIPE_LOOPS = {
    name: new_loop
    for name, new_loop in LOOP_FACTORIES.items()
    if name != "uvloop"  # libuv wakes its loop with its own async handle
}


def _drain(loop: asyncio.AbstractEventLoop, timeout: float = 0) -> int:
    """Read what the loop's self-pipe holds, waiting up to ``timeout`` for it."""
    ssock = loop._ssock  # type: ignore[attr-defined]
    received = 0
    while select.select([ssock], [], [], timeout)[0]:
        try:
            data = ssock.recv(65536)
        except BlockingIOError:
            break
        if not data:
            break
        received += len(data)
    return received


@pytest.mark.parametrize("new_loop", SELF_PIPE_LOOPS.values(), ids=SELF_PIPE_LOOPS)
def test_wakeups_sent_from_threads_at_once_all_reach_the_loop(
    new_loop: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    threads, rounds = 4, 250
    loop = new_loop()
    try:
        _drain(loop)  # whatever the loop sent itself while starting
        start, end = threading.Barrier(threads + 1), threading.Barrier(threads + 1)

        def wake() -> None:
            for _ in range(rounds):
                start.wait()
                loop.call_soon_threadsafe(lambda: None)
                end.wait()

        workers = [threading.Thread(target=wake) for _ in range(threads)]
        for worker in workers:
            worker.start()
        received = 0
        # The loop is not running: the test reads its self-pipe in its place,
        # a round at a time, as a socket holds only so many one-byte sends.
        for _ in range(rounds):
            start.wait()
            end.wait()
            received += _drain(loop)
        for worker in workers:
            worker.join()
        while received < threads * rounds and (more := _drain(loop, timeout=2.0)):
            received += more
        assert received == threads * rounds
    finally:
        loop.close()
