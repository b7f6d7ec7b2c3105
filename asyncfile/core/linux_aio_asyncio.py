"""linux_aio's asyncio adapter."""

from __future__ import annotations

import errno
import warnings
from typing import Any

from .abstract import AbstractContext
from .asyncio_native import NativeAsyncioContext
from .linux_aio import Context, Operation
from .native import ThreadContext

__all__ = ("AsyncioContext",)


class AsyncioContext(NativeAsyncioContext):
    """Awaitable operations on Linux AIO.

    When the kernel has no AIO context left (``fs.aio-max-nr`` used up), this
    warns and runs on the native thread pool instead.
    """

    CONTEXT_CLASS = Context
    OPERATION_CLASS = Operation

    def _new_native_context(self, max_requests: int, **options: Any) -> AbstractContext:
        try:
            return super()._new_native_context(max_requests, **options)
        except OSError as exc:
            if exc.errno != errno.EAGAIN:
                raise
        warnings.warn(
            "Linux AIO has no context left (fs.aio-max-nr is used up): "
            "falling back to the thread pool",
            RuntimeWarning,
            stacklevel=3,
        )
        return ThreadContext(max_requests=max_requests, **options)
