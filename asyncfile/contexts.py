"""One core context per running event loop.

:func:`get_context` returns the ``AsyncioContext`` that serves the running loop,
creating it on first use; it is never created at import or outside a running
loop.  It is closed when its loop closes (asyncio's loops and uvloop alike), so a
process that runs a thousand short-lived loops holds the kernel resources of
one context at a time, and a forked child starts with none of its parent's.

asyncfile runs in asyncio's event loops (and uvloop's): awaited anywhere else
(trio, anyio's trio backend, a coroutine driven by hand) it raises
:class:`AsyncioRequiredError`, a ``RuntimeError``.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import sys
import threading
from collections.abc import Callable
from typing import Any

from . import core
from .core import forks
from .core.asyncio_base import AsyncioContextBase

try:
    from .core._aio import running_loop as running_loop_or_none
except ImportError:  # no C core (built without a compiler, or Windows)
    running_loop_or_none = asyncio._get_running_loop

__all__ = (
    "AsyncioRequiredError",
    "check_context",
    "close_contexts",
    "get_context",
    "on_loop_close",
    "running_loop",
    "running_loop_or_none",
)

_lock = threading.Lock()
#: (loop, backend name) -> the context serving it.
_contexts: dict[tuple[asyncio.AbstractEventLoop, str], AsyncioContextBase] = {}
_generation = forks.generation()
#: The backend name and context get_context() returned last: asked first,
#: since a program's calls mostly come from one loop.  Whether that context
#: serves the running loop is one C call, where asyncio's own lookup of the
#: running loop costs a getpid() system call before 3.12.
_last: tuple[str, AsyncioContextBase] | None = None


class AsyncioRequiredError(RuntimeError):
    """asyncfile was awaited where no asyncio event loop runs: under trio
    (or anyio's trio backend, which asyncfile does not support), or in a
    coroutine driven by hand.  Its coroutines run in asyncio's loops
    (``asyncio.run()``, uvloop)."""


def running_loop() -> asyncio.AbstractEventLoop:
    """The running asyncio loop, else :class:`AsyncioRequiredError`."""
    loop = running_loop_or_none()
    if loop is None:
        raise asyncio_required()
    return loop


def asyncio_required() -> AsyncioRequiredError:
    """The error for a call made where no asyncio loop runs, naming trio
    when that is what runs."""
    message = "asyncfile needs a running asyncio event loop (asyncio.run(), uvloop)"
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_task()
        except RuntimeError:
            pass
        else:
            return AsyncioRequiredError(
                message + ", and this is trio (or anyio on trio), which "
                "asyncfile does not support; run it under asyncio"
            )
    return AsyncioRequiredError("no running event loop: " + message)


def get_context(backend: str | None = None) -> AsyncioContextBase:
    """The context serving the running loop, on ``backend`` (a ``CAIO_IMPL``
    name: ``uring``, ``linux``, ``thread``, ``python``) or the selected one.

    Raises :class:`AsyncioRequiredError` (a ``RuntimeError``) outside a
    running asyncio loop, and ``ValueError`` for a backend this machine does
    not offer (with the reason).
    """
    global _last
    name = backend if backend is not None else core.selection.name
    last = _last
    if last is not None and last[0] == name and last[1].serves_running_loop():
        return last[1]
    loop = running_loop()
    key = (loop, name)
    context = _contexts.get(key)
    if context is not None and context.serves_running_loop():
        _last = (name, context)
        return context
    with _lock:
        _forget_parent_contexts()
        context = _contexts.get(key)
        if context is None or context.closed:
            _close_contexts_of_closed_loops()
            context = _adapter(name).AsyncioContext(loop=loop)
            _contexts[key] = context
            _close_with(loop)
        _last = (name, context)
        return context


def check_context(context: object, *methods: str) -> None:
    """``TypeError`` unless ``context`` is None or has the core context's
    ``methods``: checked where it is given, before any file is opened."""
    if context is None or all(callable(getattr(context, m, None)) for m in methods):
        return
    raise TypeError(
        "context must be an AsyncioContext of asyncfile.core (or None), "
        f"not {type(context).__name__}"
    )


def close_contexts() -> None:
    """Close every context this module created (at exit, or in tests)."""
    global _last
    with _lock:
        contexts = list(_contexts.values())
        _contexts.clear()
        _last = None
    for context in contexts:
        context.close()


def _adapter(name: str) -> Any:
    module_name = core.BACKENDS.get(name)
    if module_name is None:
        raise ValueError(
            f"unknown backend {name!r}: choose one of {', '.join(core.BACKENDS)}"
        )
    adapter = getattr(core, module_name + "_asyncio", None)
    if adapter is None:
        raise ValueError(f"backend {name!r} is unavailable: {core.unavailable[name]}")
    return adapter


def _forget_parent_contexts() -> None:
    """In a forked child, the parent's loops do not run: drop their contexts
    without closing them (closing would touch what the parent still uses)."""
    global _generation, _last
    if _generation != forks.generation():
        _contexts.clear()
        _last = None
        _generation = forks.generation()


def _close_contexts_of_closed_loops() -> None:
    """Close the contexts of loops closed without our hook (called locked)."""
    for key in [key for key in _contexts if key[0].is_closed()]:
        _contexts.pop(key).close()


def _close_with(loop: asyncio.AbstractEventLoop) -> None:
    on_loop_close(loop, _close_contexts_of)


def _close_contexts_of(loop: asyncio.AbstractEventLoop) -> None:
    global _last
    with _lock:
        keys = [key for key in _contexts if key[0] is loop]
        contexts = [_contexts.pop(key) for key in keys]
        if _last is not None and _last[1] in contexts:
            _last = None  # nothing keeps a closed loop's context alive
    for context in contexts:
        context.close()


def on_loop_close(
    loop: asyncio.AbstractEventLoop,
    callback: Callable[[asyncio.AbstractEventLoop], object],
) -> None:
    """Make ``loop.close()`` call ``callback(loop)`` first, while the loop can
    still unregister descriptors; once per callback, in the order they were
    given, and not when ``close()`` refuses (a running loop).  asyncio
    offers no hook for this, so the loop instance's ``close`` is wrapped,
    once, for every callback: a loop whose instance takes no attributes
    keeps its ``close`` (the contexts of closed loops are swept on the next
    :func:`get_context`)."""
    close: Callable[[], None] = loop.close
    callbacks: list[Callable[[asyncio.AbstractEventLoop], object]] | None = getattr(
        close, "_asyncfile_on_close", None
    )
    if callbacks is not None:
        if callback not in callbacks:
            callbacks.append(callback)
        return
    callbacks = [callback]

    def run_callbacks_then_close() -> None:
        if loop.is_running():
            close()  # asyncio refuses: what the callbacks close must go on
            return
        for each in list(callbacks):
            each(loop)
        close()

    run_callbacks_then_close._asyncfile_on_close = callbacks  # type: ignore[attr-defined]
    with contextlib.suppress(AttributeError):
        loop.close = run_callbacks_then_close  # type: ignore[method-assign]


atexit.register(close_contexts)
