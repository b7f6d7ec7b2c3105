"""python_aio's asyncio adapter."""

from .asyncio_base import AsyncioContextBase
from .python_aio import Context, Operation

__all__ = ("AsyncioContext",)


class AsyncioContext(AsyncioContextBase):
    """Awaitable operations run by python_aio's thread pool."""

    CONTEXT_CLASS = Context
    OPERATION_CLASS = Operation
