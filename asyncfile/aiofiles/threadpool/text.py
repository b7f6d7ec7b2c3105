"""aiofiles's text wrappers, with its split of coroutine and plain names
(``readable()`` is a coroutine here, as in aiofiles, where the binary
wrappers' is plain)."""

from __future__ import annotations

from ..base import AsyncBase, AsyncIndirectBase
from .utils import delegate_to_executor, proxy_method_directly, proxy_property_directly

__all__ = ("AsyncTextIOWrapper", "AsyncTextIndirectIOWrapper")

_TEXT_COROUTINES = (
    "close",
    "flush",
    "isatty",
    "read",
    "readable",
    "readline",
    "readlines",
    "seek",
    "seekable",
    "tell",
    "truncate",
    "write",
    "writable",
    "writelines",
)
_TEXT_PLAIN = ("detach", "fileno")
_TEXT_PROPERTIES = (
    "buffer",
    "closed",
    "encoding",
    "errors",
    "line_buffering",
    "newlines",
    "name",
    "mode",
)


@delegate_to_executor(*_TEXT_COROUTINES)
@proxy_method_directly(*_TEXT_PLAIN)
@proxy_property_directly(*_TEXT_PROPERTIES)
class AsyncTextIOWrapper(AsyncBase):
    """aiofiles's wrapper of ``io.TextIOWrapper``."""


@delegate_to_executor(*_TEXT_COROUTINES)
@proxy_method_directly(*_TEXT_PLAIN)
@proxy_property_directly(*_TEXT_PROPERTIES)
class AsyncTextIndirectIOWrapper(AsyncIndirectBase):
    """:class:`AsyncTextIOWrapper` over the file ``indirect()`` names at each
    call (``stdin``, ``stdout``, ``stderr``)."""
