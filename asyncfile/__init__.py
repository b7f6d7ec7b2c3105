"""asyncfile: asynchronous file I/O for asyncio that never stalls the event loop.

``asyncfile.open()`` mirrors the built-in ``open()`` with coroutines for what
touches the disk; ``asyncfile.core`` is the caio-compatible positional layer
underneath.  aiofile's names (``AIOFile``, ``async_open``, ...) are adapters
over both, from :mod:`asyncfile.aiofile`.  ``asyncfile.stdin``, ``stdout`` and
``stderr`` (and their ``_bytes`` forms) are the standard streams, made on
first use (see :mod:`asyncfile._stdio`); :mod:`asyncfile.tempfile` is
``tempfile``'s counterpart.
"""

from typing import TYPE_CHECKING, Any

from ._stdio import NAMES as _STANDARD_STREAMS
from ._stdio import standard_stream as _standard_stream
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
    "stderr",
    "stderr_bytes",
    "stdin",
    "stdin_bytes",
    "stdout",
    "stdout_bytes",
)

if TYPE_CHECKING:
    stdin: TextIOWrapper
    stdout: TextIOWrapper
    stderr: TextIOWrapper
    stdin_bytes: BufferedReader
    stdout_bytes: BufferedWriter
    stderr_bytes: BufferedWriter
else:

    def __getattr__(name: str) -> Any:
        """The standard streams, made when first asked for."""
        if name in _STANDARD_STREAMS:
            return _standard_stream(name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
