"""Waiting, on the event loop, until a stream descriptor has input.

A read from a pipe, a terminal or a socket may wait forever (a terminal
nobody types into).  Done on a worker thread from the start, such a read
cannot be taken back: a cancelled ``stdin.readline()`` would leave its thread
blocked, and the interpreter would wait for it at exit.  So the read starts
only once the loop's selector says there is something to read (or the end of
the stream); the wait itself is a plain future, cancelled like any other.
"""

from __future__ import annotations

import asyncio
import os
import select
from typing import Final

from .contexts import running_loop

__all__ = ("wait_readable",)

#: Loops can watch pipes and terminals only where select() can (not
#: Windows, where a selector takes sockets only and the proactor nothing).
_WATCHABLE: Final = hasattr(select, "poll")


def _has_input(fd: int) -> bool:
    """Whether a read would return at once (data, end of stream, an error)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def wait_readable(fd: int) -> None:
    """Return once a read of ``fd`` would not wait, or at once where the
    running loop cannot watch ``fd`` (the read then waits on its thread)."""
    if not _WATCHABLE or _has_input(fd):
        return
    loop = running_loop()
    # A descriptor of our own: add_reader on ``fd`` itself would replace a
    # reader that another object (or the program) registered for it.
    watched = os.dup(fd)
    try:
        ready = loop.create_future()
        try:
            loop.add_reader(watched, _wake, ready)
        except (OSError, NotImplementedError):
            return  # a descriptor the selector refuses (epoll: a regular file)
        try:
            await ready
        finally:
            loop.remove_reader(watched)
    finally:
        os.close(watched)
