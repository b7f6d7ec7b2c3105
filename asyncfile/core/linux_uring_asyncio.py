"""linux_uring's asyncio adapter."""

from .asyncio_native import NativeAsyncioContext
from .linux_uring import Context, Operation

__all__ = ("AsyncioContext",)


class AsyncioContext(NativeAsyncioContext):
    """Awaitable operations on io_uring; ``sqpoll=True`` opts in to SQPOLL."""

    CONTEXT_CLASS = Context
    OPERATION_CLASS = Operation
