"""aiofiles's binary wrappers, with its split of coroutine and plain names.

Over an asyncfile file object (what ``open()`` gives) the coroutines run on
the core; over a blocking file (``wrap()``, the standard streams) in the
executor, as aiofiles runs them.
"""

from __future__ import annotations

from ..base import AsyncBase, AsyncIndirectBase
from .utils import delegate_to_executor, proxy_method_directly, proxy_property_directly

__all__ = (
    "AsyncBufferedIOBase",
    "AsyncBufferedReader",
    "AsyncFileIO",
    "AsyncIndirectBufferedIOBase",
    "AsyncIndirectBufferedReader",
    "AsyncIndirectFileIO",
)

_BUFFERED_COROUTINES = (
    "close",
    "flush",
    "isatty",
    "read",
    "read1",
    "readinto",
    "readline",
    "readlines",
    "seek",
    "seekable",
    "tell",
    "truncate",
    "writable",
    "write",
    "writelines",
)
_BUFFERED_PLAIN = ("detach", "fileno", "readable")
_BUFFERED_PROPERTIES = ("closed", "raw", "name", "mode")

_RAW_COROUTINES = (
    "close",
    "flush",
    "isatty",
    "read",
    "readall",
    "readinto",
    "readline",
    "readlines",
    "seek",
    "seekable",
    "tell",
    "truncate",
    "writable",
    "write",
    "writelines",
)
_RAW_PLAIN = ("fileno", "readable")
_RAW_PROPERTIES = ("closed", "name", "mode")


@delegate_to_executor(*_BUFFERED_COROUTINES)
@proxy_method_directly(*_BUFFERED_PLAIN)
@proxy_property_directly(*_BUFFERED_PROPERTIES)
class AsyncBufferedIOBase(AsyncBase):
    """aiofiles's wrapper of ``io.BufferedWriter`` and ``io.BufferedIOBase``."""


@delegate_to_executor("peek")
class AsyncBufferedReader(AsyncBufferedIOBase):
    """aiofiles's wrapper of ``io.BufferedReader`` and ``io.BufferedRandom``."""


@delegate_to_executor(*_RAW_COROUTINES)
@proxy_method_directly(*_RAW_PLAIN)
@proxy_property_directly(*_RAW_PROPERTIES)
class AsyncFileIO(AsyncBase):
    """aiofiles's wrapper of ``io.FileIO`` (``buffering=0``)."""


@delegate_to_executor(*_BUFFERED_COROUTINES)
@proxy_method_directly(*_BUFFERED_PLAIN)
@proxy_property_directly(*_BUFFERED_PROPERTIES)
class AsyncIndirectBufferedIOBase(AsyncIndirectBase):
    """:class:`AsyncBufferedIOBase` over the file ``indirect()`` names at
    each call (``stdout_bytes`` and the like)."""


@delegate_to_executor("peek")
class AsyncIndirectBufferedReader(AsyncIndirectBufferedIOBase):
    """:class:`AsyncBufferedReader` over the file ``indirect()`` names."""


@delegate_to_executor(*_RAW_COROUTINES)
@proxy_method_directly(*_RAW_PLAIN)
@proxy_property_directly(*_RAW_PROPERTIES)
class AsyncIndirectFileIO(AsyncIndirectBase):
    """:class:`AsyncFileIO` over the file ``indirect()`` names."""
