"""asyncfile: asynchronous file I/O for asyncio that never stalls the event loop.

``asyncfile.open()`` mirrors the built-in ``open()`` with coroutines for what
touches the disk; ``asyncfile.core`` is the caio-compatible positional layer
underneath.
"""

from ._version import __version__
from .file import (
    BufferedRandom,
    BufferedReader,
    BufferedWriter,
    FileIO,
    FileOpener,
    TextIOWrapper,
    open,
)

__all__ = (
    "BufferedRandom",
    "BufferedReader",
    "BufferedWriter",
    "FileIO",
    "FileOpener",
    "TextIOWrapper",
    "__version__",
    "open",
)
