"""The native core's classes, known to the abstract API as its implementations.

Import this only once :func:`~asyncfile.core.probes.native_core` says the
extension loads.
"""

from . import _aio
from ._aio import Operation, ThreadContext
from .abstract import AbstractContext, AbstractOperation

__all__ = ("LinuxAioContext", "Operation", "ThreadContext", "UringContext")

AbstractOperation.register(Operation)
AbstractContext.register(ThreadContext)
if not _aio.PORTABLE:  # the portable build (macOS) has the thread pool only
    from ._aio import LinuxAioContext, UringContext

    AbstractContext.register(UringContext)
    AbstractContext.register(LinuxAioContext)
