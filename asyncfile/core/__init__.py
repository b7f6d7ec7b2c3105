"""asyncfile.core: positional file I/O without blocking the event loop.

A drop-in for caio 0.12's public API.  Four backends share one interface:
``linux_uring`` (io_uring), ``linux_aio`` (Linux kernel AIO), ``thread_aio`` (a native
thread pool) and ``python_aio`` (Python threads); each has an ``*_asyncio`` module
with an ``AsyncioContext``.  ``Context``, ``Operation`` and ``AsyncioContext`` at this
level are the selected backend's: chosen by the ``CAIO_IMPL`` environment variable
(``uring``, ``linux``, ``thread`` or ``python``), else by the first valid line of a
``default_implementation`` file beside this module, else the best available.
"""

from types import ModuleType

from . import python_aio, python_aio_asyncio
from ._selection import BACKENDS, Selection, import_backend, select_backend
from .abstract import AbstractContext, AbstractOperation
from .buffers import aligned_buffer
from .errors import AIOError, BufferTypeError, QueueFullError


def _native(name: str) -> tuple[ModuleType | None, ModuleType | None, str | None]:
    modules = import_backend(name)
    if isinstance(modules, str):
        return None, None, modules
    return modules[0], modules[1], None


linux_uring, linux_uring_asyncio, _uring_missing = _native("uring")
linux_aio, linux_aio_asyncio, _linux_missing = _native("linux")
thread_aio, thread_aio_asyncio, _thread_missing = _native("thread")

#: Why each backend left out of ``variants`` is unavailable.
unavailable: dict[str, str] = {
    name: why
    for name, why in (
        ("uring", _uring_missing),
        ("linux", _linux_missing),
        ("thread", _thread_missing),
    )
    if why is not None
}

_backends: dict[str, tuple[ModuleType | None, ModuleType | None]] = {
    "uring": (linux_uring, linux_uring_asyncio),
    "linux": (linux_aio, linux_aio_asyncio),
    "thread": (thread_aio, thread_aio_asyncio),
    "python": (python_aio, python_aio_asyncio),
}

variants: tuple[ModuleType, ...] = tuple(
    module for module, _ in _backends.values() if module is not None
)
variants_asyncio: tuple[ModuleType, ...] = tuple(
    adapter for _, adapter in _backends.values() if adapter is not None
)

#: The backend the package-level names are bound to, and why it was chosen.
selection: Selection = select_backend(
    [name for name, (module, _) in _backends.items() if module is not None],
    unavailable,
)
preferred: ModuleType = _backends[selection.name][0] or python_aio
preferred_asyncio: ModuleType = _backends[selection.name][1] or python_aio_asyncio

Context: type[AbstractContext] = preferred.Context
Operation: type[AbstractOperation] = preferred.Operation
AsyncioContext: type[python_aio_asyncio.AsyncioContext] = (
    preferred_asyncio.AsyncioContext
)

__all__ = (
    "BACKENDS",
    "AIOError",
    "AbstractContext",
    "AbstractOperation",
    "AsyncioContext",
    "BufferTypeError",
    "Context",
    "Operation",
    "QueueFullError",
    "aligned_buffer",
    "linux_aio",
    "linux_aio_asyncio",
    "linux_uring",
    "linux_uring_asyncio",
    "preferred",
    "preferred_asyncio",
    "python_aio",
    "python_aio_asyncio",
    "selection",
    "thread_aio",
    "thread_aio_asyncio",
    "unavailable",
    "variants",
    "variants_asyncio",
)
