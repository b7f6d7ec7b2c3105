"""Streams: chunk and line readers with read-ahead, a write-behind writer.

:class:`ChunkReader` reads a byte range of a file in chunks while the next
``depth`` chunks are already being read; :class:`LineStream` splits such a
stream into lines (bytes or text, any separator, bounded line length);
:class:`WriteBehindWriter` takes writes into a bounded buffer and writes them
to the file in the background as large writes.

All three do positional I/O on the descriptor through the core context of the
running loop (:func:`asyncfile.contexts.get_context`); a file object given as
the source keeps its own position untouched.
"""

from __future__ import annotations

from ._chunks import ChunkReader
from ._lines import LineStream, LineTooLongError
from ._writer import FsyncPolicy, WriteBehindWriter

__all__ = (
    "ChunkReader",
    "FsyncPolicy",
    "LineStream",
    "LineTooLongError",
    "WriteBehindWriter",
)

for _name in __all__:
    globals()[_name].__module__ = "asyncfile"
del _name
