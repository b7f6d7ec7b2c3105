"""asyncfile: asynchronous file I/O for asyncio that never stalls the event loop.

``asyncfile.open()`` mirrors the built-in ``open()`` with coroutines for what
touches the disk; ``asyncfile.core`` is the caio-compatible positional layer
underneath.  aiofile's names (``AIOFile``, ``async_open``, ...) are adapters
over both, from :mod:`asyncfile.aiofile`.
"""

from ._version import __version__
from .aiofile import (
    AIOFile,
    BinaryFileWrapper,
    FileIOCloner,
    FileIOWrapperBase,
    LineReader,
    Reader,
    TextFileWrapper,
    Writer,
    async_open,
    clone,
)
from .contexts import AsyncioRequiredError
from .file import (
    BufferedRandom,
    BufferedReader,
    BufferedWriter,
    FileIO,
    FileOpener,
    NotOpenedError,
    TextIOWrapper,
    open,
)
from .loghandler import AsyncFileHandler
from .streams import (
    ChunkReader,
    FsyncPolicy,
    LineStream,
    LineTooLongError,
    WriteBehindWriter,
)

__all__ = (
    "AIOFile",
    "AsyncFileHandler",
    "AsyncioRequiredError",
    "BinaryFileWrapper",
    "BufferedRandom",
    "BufferedReader",
    "BufferedWriter",
    "ChunkReader",
    "FileIO",
    "FileIOCloner",
    "FileIOWrapperBase",
    "FileOpener",
    "FsyncPolicy",
    "LineReader",
    "LineStream",
    "LineTooLongError",
    "NotOpenedError",
    "Reader",
    "TextFileWrapper",
    "TextIOWrapper",
    "WriteBehindWriter",
    "Writer",
    "__version__",
    "async_open",
    "clone",
    "open",
)
