"""thread_aio's asyncio adapter."""

from .asyncio_native import NativeAsyncioContext
from .thread_aio import Context, Operation

__all__ = ("AsyncioContext",)


class AsyncioContext(NativeAsyncioContext):
    """Awaitable operations on the native thread pool."""

    CONTEXT_CLASS = Context
    OPERATION_CLASS = Operation
