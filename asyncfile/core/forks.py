"""Tells objects that live across fork() that they now run in a child.

:func:`generation` counts the forks that led to this process.  With the C
core it is the core's own counter (bumped by ``pthread_atfork`` in every
child, whether Python's ``os.fork()`` or a C library forked), so the Python
layers and the C core compare against one number; the pure-Python build
counts ``os.fork()`` children itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable

__all__ = ("generation",)

generation: Callable[[], int]
"""How many forks led to this process: 0 where the core was first imported,
one more in each forked child.  Compare two answers to notice a fork."""

try:
    from ._aio import fork_generation as generation
except ImportError:  # no C core (built without a compiler, or Windows)
    _forks = [0]

    def generation() -> int:
        return _forks[0]

    def _note_fork_in_child() -> None:
        _forks[0] += 1

    if hasattr(os, "register_at_fork"):  # Windows does not fork
        os.register_at_fork(after_in_child=_note_fork_in_child)
