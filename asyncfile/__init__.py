"""asyncfile: asynchronous file I/O for asyncio that never stalls the event loop."""

from ._version import __version__

__all__ = ("__version__",)
