"""Lines of a file with read-ahead (re-exported by :mod:`asyncfile.streams`)."""

from __future__ import annotations

import codecs
import operator
from types import TracebackType
from typing import TYPE_CHECKING, Any, AnyStr, Generic, cast, overload

from ..io._text import _locale_encoding, _lookup_text_encoding
from ._chunks import DEFAULT_CHUNK_SIZE, ChunkReader, Source

if TYPE_CHECKING:
    from typing_extensions import Self

    from ..core.asyncio_base import AsyncioContextBase

__all__ = ("LineStream", "LineTooLongError")

DEFAULT_MAX_LINE = 1 << 20


class LineTooLongError(ValueError):
    """A line is longer than the reader's ``max_line_length``.

    ``line_number`` is the 1-based number of the offending line, ``limit``
    the maximum.  The reader is closed: the rest of the file is not read.
    """

    def __init__(self, line_number: int, limit: int, name: object) -> None:
        super().__init__(
            f"line {line_number} of {name!r} is longer than max_line_length={limit}"
        )
        self.line_number = line_number
        self.limit = limit


class LineStream(Generic[AnyStr]):
    """Lines of ``source`` (a path or an open file object, see
    :class:`ChunkReader`), read ahead in chunks.

    Bytes by default; with ``encoding`` the lines are ``str`` decoded
    incrementally (so a character split across chunks is whole).  A line
    ends after ``separator`` (any non-empty string, several characters
    too; default newline) and keeps it, as ``readline()`` does; the last
    line may lack it.  No newline translation is done: ``"\\r\\n"`` files
    give lines ending in ``"\\r\\n"`` with the default separator.

    ``max_line_length`` (characters in text mode, bytes otherwise; ``None``
    for no limit) bounds memory: a longer line raises
    :class:`LineTooLongError` as soon as that many characters have been read
    without a separator, never holding more than about one chunk beyond it.

    ``async for line in stream`` gives lines one by one; :meth:`readlines`
    gives them in batches, which is much faster per line.
    """

    @overload
    def __init__(
        self: LineStream[bytes],
        source: Source,
        *,
        separator: bytes = b"\n",
        encoding: None = None,
        errors: None = None,
        max_line_length: int | None = DEFAULT_MAX_LINE,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        depth: int = 2,
        start: int = 0,
        end: int | None = None,
        context: AsyncioContextBase | None = None,
    ) -> None: ...
    @overload
    def __init__(
        self: LineStream[str],
        source: Source,
        *,
        separator: str = "\n",
        encoding: str,
        errors: str | None = None,
        max_line_length: int | None = DEFAULT_MAX_LINE,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        depth: int = 2,
        start: int = 0,
        end: int | None = None,
        context: AsyncioContextBase | None = None,
    ) -> None: ...
    def __init__(
        self,
        source: Source,
        *,
        separator: bytes | str | None = None,
        encoding: str | None = None,
        errors: str | None = None,
        max_line_length: int | None = DEFAULT_MAX_LINE,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        depth: int = 2,
        start: int = 0,
        end: int | None = None,
        context: AsyncioContextBase | None = None,
    ) -> None:
        decoder_class = None
        if encoding is not None:
            # As open() checks them, before anything is opened.
            _check_str_or_none("encoding", encoding)
            _check_str_or_none("errors", errors)
            if encoding == "locale":
                encoding = _locale_encoding()
            decoder_class = _lookup_text_encoding(encoding).incrementaldecoder
            if errors is not None:
                codecs.lookup_error(errors)
        elif errors is not None:
            raise ValueError("a binary LineStream doesn't take an errors argument")
        text = encoding is not None
        if separator is None:
            separator = "\n" if text else b"\n"
        if text and not isinstance(separator, str):
            raise TypeError("a text LineStream needs a str separator")
        if not text and not isinstance(separator, bytes):
            raise TypeError("a binary LineStream needs a bytes separator")
        if not separator:
            raise ValueError("separator must not be empty")
        if max_line_length is not None:
            max_line_length = operator.index(max_line_length)
        if max_line_length is not None and max_line_length <= 0:
            raise ValueError(f"max_line_length must be positive, got {max_line_length}")
        self._chunks = ChunkReader(
            source,
            chunk_size=chunk_size,
            depth=depth,
            start=start,
            end=end,
            reuse_buffers=True,
            context=context,
        )
        self._name = source
        # The overloads tie the separator's type to encoding; checked above.
        self.separator: AnyStr = cast("AnyStr", separator)
        self.max_line_length = max_line_length
        self._decoder: Any = None
        if decoder_class is not None:
            self._decoder = decoder_class(errors or "strict")
        self._empty: AnyStr = self.separator[:0]
        self._rest: AnyStr = self._empty
        self._lines: list[AnyStr] = []
        self._index = 0
        self._eof = False
        self._lines_split = 0  # lines split off so far
        self._error: LineTooLongError | None = None

    @property
    def closed(self) -> bool:
        return self._chunks.closed

    async def __aenter__(self) -> Self:
        await self._chunks.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reading; close the file if this stream opened it."""
        self._lines = []
        self._index = 0
        await self._chunks.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> AnyStr:
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line

    async def readline(self) -> AnyStr:
        """The next line, with its separator; empty at the end."""
        while self._index >= len(self._lines):
            if not await self._split_more():
                return self._empty
        line = self._lines[self._index]
        self._index += 1
        return line

    async def readlines(self, hint: int = -1) -> list[AnyStr]:
        """Lines until their total size reaches ``hint`` (all with ``hint``
        <= 0), as ``io``'s ``readlines``; at least the lines of one chunk
        when available, ``[]`` at the end."""
        batch: list[AnyStr] = []
        size = 0
        while hint <= 0 or size < hint:
            if self._index >= len(self._lines):
                if batch and self._error is not None:
                    break  # hand out the good lines first
                if not await self._split_more():
                    break
            lines = self._lines[self._index :] if self._index else self._lines
            self._lines, self._index = [], 0
            if hint > 0:
                size += sum(map(len, lines))
            batch += lines
        return batch

    async def _split_more(self) -> bool:
        """Read one chunk and split it into lines; False at the end.

        A line found too long is raised once the lines before it are
        handed out (the stream is closed then).
        """
        if self._error is not None:
            await self.aclose()
            raise self._error
        if self._eof:
            return False
        if self._chunks.closed:
            raise ValueError("I/O operation on closed LineStream")
        chunk = await self._chunks.read_chunk()
        decoder = self._decoder
        separator = self.separator
        if not chunk:
            self._eof = True
            tail: Any = decoder.decode(b"", final=True) if decoder else self._empty
            last: AnyStr = self._rest + tail
            self._rest = self._empty
            parts = [last] if last else []
            keep = []
        else:
            data: Any = decoder.decode(chunk) if decoder is not None else bytes(chunk)
            if self._rest:
                data = self._rest + data
            parts = data.split(separator)
            self._rest = parts.pop()
            keep = [separator]
        limit = self.max_line_length
        if limit is not None:
            bad = _first_longer(parts, limit - len(separator) * len(keep))
            if bad is None and len(self._rest) > limit:
                bad = len(parts)
            if bad is not None:
                number = self._lines_split + bad + 1
                self._error = LineTooLongError(number, limit, self._name)
                del parts[bad:]
                self._eof = True
        self._lines_split += len(parts)
        self._lines = [part + separator for part in parts] if keep else parts
        self._index = 0
        if not chunk:
            await self._chunks.aclose()
        return True


def _check_str_or_none(argument: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise TypeError(
            f"LineStream() argument '{argument}' must be str or None, "
            f"not {type(value).__name__}"
        )


def _first_longer(parts: list[AnyStr], limit: int) -> int | None:
    """The index of the first of ``parts`` longer than ``limit``, if any."""
    if not parts or max(map(len, parts)) <= limit:
        return None
    return next(i for i, part in enumerate(parts) if len(part) > limit)
