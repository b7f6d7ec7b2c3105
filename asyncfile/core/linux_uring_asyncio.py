"""linux_uring's asyncio adapter."""

from __future__ import annotations

import errno
import warnings
from typing import Any

from .abstract import AbstractContext
from .asyncio_native import NativeAsyncioContext
from .linux_uring import Context, Operation
from .native import ThreadContext

__all__ = ("AsyncioContext",)

#: io_uring_setup failures that mean "not now, not here", not a caller's bug:
#: the ring limit or locked memory used up, or io_uring disabled since import.
_RING_UNAVAILABLE = frozenset({errno.EPERM, errno.EACCES, errno.ENOMEM, errno.EMFILE})


class AsyncioContext(NativeAsyncioContext):
    """Awaitable operations on io_uring; ``sqpoll=True`` opts in to SQPOLL.

    When no ring can be set up (memory or descriptors used up, or io_uring
    disabled after import), this warns and runs on the native thread pool.
    """

    CONTEXT_CLASS = Context
    OPERATION_CLASS = Operation

    def _new_native_context(self, max_requests: int, **options: Any) -> AbstractContext:
        try:
            return super()._new_native_context(max_requests, **options)
        except OSError as exc:
            if exc.errno not in _RING_UNAVAILABLE:
                raise
            reason = exc
        warnings.warn(
            f"io_uring_setup failed ({reason}): falling back to the thread pool",
            RuntimeWarning,
            stacklevel=3,
        )
        options.pop("sqpoll", None)
        return ThreadContext(max_requests=max_requests, **options)
