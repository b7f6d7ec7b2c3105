"""The native core's classes, known to the abstract API as its implementations.

Import this only once :func:`~asyncfile.core.probes.native_core` says the
extension loads.
"""

from ._aio import LinuxAioContext, Operation, ThreadContext, UringContext
from .abstract import AbstractContext, AbstractOperation

__all__ = ("LinuxAioContext", "Operation", "ThreadContext", "UringContext")

AbstractOperation.register(Operation)
for _context_class in (UringContext, LinuxAioContext, ThreadContext):
    AbstractContext.register(_context_class)
