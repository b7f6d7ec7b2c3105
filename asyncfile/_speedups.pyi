from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator
from typing import Any, final

from .io._raw import AsyncFileIO

class RawFileBase:
    _fd: int
    _position: int | None
    _size_hint: int | None
    _lock: Any
    _cached_reader: Callable[[int, int, int], bytes | bool | None] | None
    _closed: bool
    _readable: bool

class BufferedFileBase:
    _raw: AsyncFileIO | None
    _buf: bytearray | None
    buffer_size: int
    _pos: int
    _read_end: int

class TextFileBase:
    _buffer: BufferedFileBase | None
    _pending: bytearray
    _decoded_chars: str | None
    _decoded_chars_used: int
    _plain_readnl: str | None
    _plain_writes: Any
    _telling: bool

class ChunkReaderBase:
    _cached_reader: Callable[[int, int, int], bytes | bool | None] | None
    _pending: deque[Any]
    chunk_size: int
    end: int | None
    _next: int
    _offset: int
    _held: memoryview | None
    _fd: int
    _closed: bool
    _busy: bool
    _eof: bool
    reuse_buffers: bool

@final
class TextLines(AsyncIterator[str]):
    def __init__(self, text: Any, /) -> None: ...
    def __aiter__(self) -> TextLines: ...
    async def __anext__(self) -> str: ...

@final
class Chunks(AsyncIterator[Any]):
    def __init__(self, reader: Any, /) -> None: ...
    def __aiter__(self) -> Chunks: ...
    async def __anext__(self) -> Any: ...

@final
class FastPathMethod:
    __func__: Callable[[Any, Any], Awaitable[Any]]
    at_once: Callable[[Any, Any], Any]
    def __init__(
        self,
        method: Callable[[Any, Any], Awaitable[Any]],
        at_once: Callable[[Any, Any], Any],
        default: Any = ...,
        /,
    ) -> None: ...
    def __call__(self, owner: Any, arg: Any = ..., /) -> Awaitable[Any]: ...

def write_plainly(text: Any, s: str, /) -> int | None: ...
def read_at_once(buffered: Any, size: Any, /) -> bytes | None: ...
def start_close(buffered: Any, _: Any, /) -> Awaitable[None] | None: ...

@final
class FastPathCall(Coroutine[Any, Any, Any]):
    def __await__(self) -> Generator[Any, None, Any]: ...
    def send(self, value: Any, /) -> Any: ...
    def throw(self, typ: Any, val: Any = ..., tb: Any = ..., /) -> Any: ...
    def close(self) -> None: ...
