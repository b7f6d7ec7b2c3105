"""Tells objects that live across fork() that they now run in a child."""

from __future__ import annotations

import os

__all__ = ("generation",)

#: Incremented in every forked child; compare it to notice a fork cheaply.
generation = 0


def _note_fork_in_child() -> None:
    global generation  # the one process-wide fact this module exists to hold
    generation += 1


if hasattr(os, "register_at_fork"):  # Windows does not fork
    os.register_at_fork(after_in_child=_note_fork_in_child)
