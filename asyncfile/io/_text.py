"""Text file objects: io.TextIOWrapper, with coroutines for every call that
touches the disk.

Adapted from CPython's Lib/_pyio.py (PSF License).  Where _pyio and the C
implementation (Modules/_io/textio.c) disagree, this class does what the C
implementation of Python 3.13 does, since that is what ``open()`` returns:
8 KiB chunks sized by the bytes-per-character ratio, encoded text collected
in a pending list before it reaches the buffer, the same ``tell()`` cookies
(same packing, same decoder replay), ``truncate()`` at the buffer's position,
no BOM for UTF-16/32 written to an unseekable file, and io's error messages.
Decoding uses ``io.IncrementalNewlineDecoder``.

Differences forced by being asynchronous:

- ``tell()`` is plain and does no I/O: where io flushes first, this counts
  the pending bytes instead, so it returns the same cookie without writing.
- A read that is cancelled puts back what it took: decoded text, decoder
  state and the buffer's position (or, on a pipe, the bytes), so the position
  and the next read are as if it had not been called.  (The decoder's record
  of the newline kinds seen is not rolled back.)  Other failures, such as a
  decoding error, leave the state io leaves: the chunk that failed is skipped.
- A write that is cancelled while its bytes go to the buffer keeps them
  pending: they reach the file whole with the next flush, never in part.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import io
import operator
import os
import struct
import sys
import warnings
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any, Final, NamedTuple, NoReturn

from ._base import IOBase, c_int, optional_size, ssize
from ._buffered import FastPathMethod, _BufferedBase
from ._cancellation import runs_to_the_end
from ._locks import TaskLock, serialized

TextLines: type[AsyncIterator[str]] | None
try:
    from .._speedups import TextLines, write_plainly
except ImportError:  # built without a C compiler
    TextLines = None

if TYPE_CHECKING:
    from types import EllipsisType

    from typing_extensions import Buffer

__all__ = ("TextIOWrapper",)

UnsupportedOperation = io.UnsupportedOperation

#: A tell() cookie, as the C implementation packs it (little-endian, unsigned):
#: start position, decoder flags, bytes to feed, characters to skip, need EOF.
_COOKIE: Final = struct.Struct("<qiiib")

_NEWLINES: Final = (None, "", "\n", "\r", "\r\n")

#: The chunk size while tell() is disabled (during iteration, or on a pipe),
#: where io's 8 KiB would make the read per chunk cost more than its lines.
_UNTOLD_CHUNK_SIZE: Final = 64 * 1024

#: Codecs whose incremental encoder keeps no state: ``str.encode`` gives the
#: same bytes, faster (io's C implementation has the same shortcut).
_STATELESS_ENCODINGS: Final = frozenset({"utf-8", "iso8859-1", "ascii"})


def _locale_encoding() -> str:
    import locale

    getencoding = getattr(locale, "getencoding", None)  # Python 3.11+
    if getencoding is not None:
        return str(getencoding())
    return locale.getpreferredencoding(False)


def _lookup_text_encoding(encoding: str) -> codecs.CodecInfo:
    """The codec for ``encoding``, or the ``LookupError`` the running Python's
    io raises for it: unknown, or not a text encoding (io's wording of the
    latter changes between versions, so io itself is asked for it)."""
    codec_info = codecs.lookup(encoding)
    if not getattr(codec_info, "_is_text_encoding", True):
        io.TextIOWrapper(io.BytesIO(), encoding=encoding)
        raise LookupError(f"{encoding!r} is not a text encoding")  # io accepted it
    return codec_info


def _check_newline(newline: str | None) -> None:
    if newline not in _NEWLINES:
        raise ValueError(f"illegal newline value: {newline}")


class _PlainWrites(NamedTuple):
    """What a write needs when it only encodes: a stateless codec, nothing to
    translate or flush at once, the file not read too.  The C write_plainly
    reads the fields by position."""

    encoding: str
    errors: str
    pending: bytearray  # the TextIOWrapper's own _pending
    limit: int  # its _chunk_size
    buffer: _BufferedBase
    #: The buffer's write when it completes at once (``_write_at_once``):
    #: the pending bytes reach the buffer without the lock when they fit in
    #: it.  None if the buffer has none.
    write_at_once: Callable[[Buffer], int | None] | None


class _Rollback:
    """What a read changes, to put back if it is cancelled."""

    __slots__ = (
        "b2cratio",
        "consumed",
        "decoded_chars",
        "decoded_chars_used",
        "decoder_state",
        "position",
        "snapshot",
    )

    def __init__(self, text: TextIOWrapper) -> None:
        self.decoded_chars = text._decoded_chars
        self.decoded_chars_used = text._decoded_chars_used
        self.snapshot = text._snapshot
        self.b2cratio = text._b2cratio
        self.decoder_state: tuple[bytes, int] | None = None
        self.consumed: list[bytes] = []  # what was read from the buffer
        #: The buffer's position before the first read (None: none yet).
        self.position: int | None = None


class PyTextFileBase:
    """The state of a text file that its fast paths read and move, as
    ``__slots__``: the pure-Python twin of ``_speedups.TextFileBase``, which
    declares the same fields in C."""

    __slots__ = (
        "_buffer",
        "_decoded_chars",
        "_decoded_chars_used",
        "_pending",
        "_plain_readnl",
        "_plain_writes",
        "_telling",
    )


if TYPE_CHECKING:
    from .._speedups import TextFileBase
else:
    try:
        from .._speedups import TextFileBase
    except ImportError:  # built without a compiler
        TextFileBase = PyTextFileBase


class TextIOWrapper(TextFileBase, IOBase[str]):
    """A text file over a buffered binary one, like ``io.TextIOWrapper``.

    ``read``, ``readline``, ``readlines``, ``write``, ``writelines``,
    ``seek``, ``truncate``, ``flush``, ``close``, ``detach`` and
    ``reconfigure`` are coroutines; ``tell`` and the queries are plain.
    """

    # TextFileBase's fields (declared there; annotated here, never assigned
    # in the class body, which would hide them).
    _buffer: _BufferedBase | None  # None once detached
    _decoded_chars: str | None  # None until the first read
    _plain_writes: _PlainWrites | None

    #: The mode given to ``open()`` (set by it, as io does).
    mode: str

    def __init__(
        self,
        buffer: _BufferedBase,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
        line_buffering: bool = False,
        write_through: bool = False,
    ) -> None:
        # The file's one lock, shared with the buffer and its raw file.
        lock = getattr(buffer, "_lock", None)
        self._lock = lock if isinstance(lock, TaskLock) else TaskLock()
        if encoding is not None and not isinstance(encoding, str):
            raise TypeError(
                "TextIOWrapper() argument 'encoding' must be str or None, "
                f"not {type(encoding).__name__}"
            )
        if newline is not None and not isinstance(newline, str):
            raise TypeError(
                "TextIOWrapper() argument 'newline' must be str or None, "
                f"not {type(newline).__name__}"
            )
        if encoding is None and sys.flags.warn_default_encoding:
            warnings.warn(
                "'encoding' argument not specified",
                EncodingWarning,
                stacklevel=2,
            )
        if errors is None:
            errors = "strict"
        elif not isinstance(errors, str):
            raise TypeError(
                "TextIOWrapper() argument 'errors' must be str or None, "
                f"not {type(errors).__name__}"
            )
        elif sys.flags.dev_mode:
            codecs.lookup_error(errors)
        _check_newline(newline)
        if encoding is None and sys.flags.utf8_mode:
            encoding = "utf-8"
        elif encoding is None or encoding == "locale":
            encoding = _locale_encoding()
        codec_info = _lookup_text_encoding(encoding)

        self._encoding = encoding
        self._errors = errors
        self._chunk_size = 8192
        self._line_buffering = bool(line_buffering)
        self._write_through = bool(write_through)
        self._set_newline(newline)
        self._buffer = buffer
        self._decoded_chars = None  # until the first read
        self._decoded_chars_used = 0
        #: Encoded text not yet in the buffer; it goes there once
        #: _chunk_size bytes are pending.
        self._pending = bytearray()
        # (decoder flags, the input from the snapshot point on), for tell().
        self._snapshot: tuple[int, bytes] | None = None
        self._b2cratio = 0.0
        self._decoder: Any = None
        self._encoder: codecs.IncrementalEncoder | None = None
        self._encoder_name = ""
        #: What a write needs when it only encodes (None: every write takes
        #: the full path); see _update_plain_writes.
        self._plain_writes = None
        self._set_codecs(codec_info, errors)
        self._seekable = self._telling = buffer.seekable()
        self._has_read1 = hasattr(buffer, "read1")
        self._fix_encoder_state()
        self._update_plain_writes()
        buffer._wrapped = True

    # -- configuration ------------------------------------------------------

    def _update_plain_writes(self) -> None:
        """Writes may skip the lock and the encoder object when the codec is
        stateless, nothing is translated, flushed at once or line-buffered,
        and the file is not read too (no read state to reset)."""
        buffer = self._buffer
        plain = (
            self._encoder is not None
            and self._decoder is None
            and self._encoder_name in _STATELESS_ENCODINGS
            and self._writenl is None
            and not self._line_buffering
            and not self._write_through
        )
        self._plain_writes = None
        if plain and buffer is not None:
            self._plain_writes = _PlainWrites(
                self._encoder_name,
                self._errors,
                self._pending,
                self._chunk_size,
                buffer,
                getattr(buffer, "_write_at_once", None),
            )

    def _set_newline(self, newline: str | None) -> None:
        self._readnl = newline
        self._readuniversal = not newline
        self._readtranslate = newline is None
        self._writetranslate = newline != ""
        #: The line ending to find with ``str.find``, where one is enough.
        self._plain_readnl = "\n" if newline is None or newline == "\n" else None
        if newline in ("\r", "\r\n"):
            self._writenl: str | None = newline
        elif newline is None and os.linesep != "\n":
            self._writenl = os.linesep
        else:
            self._writenl = None  # "\n" needs no translation

    def _set_codecs(self, codec_info: codecs.CodecInfo, errors: str) -> None:
        buffer = self.buffer
        if buffer.readable():
            decoder: Any = codec_info.incrementaldecoder(errors)
            if self._readuniversal:
                decoder = io.IncrementalNewlineDecoder(decoder, self._readtranslate)
            self._decoder = decoder
        if buffer.writable():
            self._encoder = codec_info.incrementalencoder(errors)
            self._encoder_name = codec_info.name

    def _fix_encoder_state(self) -> None:
        """Write a BOM only at the start of the stream, as io does: never in
        the middle of a seekable file, and (for UTF-16 and UTF-32, which io
        encodes natively) never on an unseekable one."""
        if self._encoder is None:
            return
        if self._seekable:
            if self.buffer.tell() != 0:
                self._encoder.setstate(0)
        elif self._encoder_name in ("utf-16", "utf-32"):
            self._encoder.setstate(0)

    def _reset_encoder(self, start_of_stream: bool) -> None:
        if self._encoder is not None:
            if start_of_stream:
                self._encoder.reset()
            else:
                self._encoder.setstate(0)

    def _reset_decoder(self, start_pos: int, dec_flags: int) -> None:
        """The decoder's state at a safe start point; at the start of the
        stream, a fresh decoder (some, like UTF-16's, start with flags)."""
        if start_pos == 0 and dec_flags == 0:
            self._decoder.reset()
        else:
            self._decoder.setstate((b"", dec_flags))

    # -- plain queries --------------------------------------------------------

    @property
    def buffer(self) -> _BufferedBase:
        """The buffered binary file underneath."""
        if self._buffer is None:
            raise ValueError("underlying buffer has been detached")
        return self._buffer

    @property
    def encoding(self) -> str:
        return self._encoding

    @property
    def errors(self) -> str:
        return self._errors

    @property
    def line_buffering(self) -> bool:
        return self._line_buffering

    @property
    def write_through(self) -> bool:
        return self._write_through

    @property
    def newlines(self) -> str | tuple[str, ...] | None:
        """The newline kinds translated so far (universal newlines only)."""
        self.buffer  # noqa: B018 (fails once detached)
        return getattr(self._decoder, "newlines", None)

    @property
    def _CHUNK_SIZE(self) -> int:  # io's name
        return self._chunk_size

    @_CHUNK_SIZE.setter
    def _CHUNK_SIZE(self, value: int) -> None:
        value = operator.index(value)
        if value <= 0:
            raise ValueError("a strictly positive integer is required")
        self._chunk_size = value
        self._update_plain_writes()

    @property
    def closed(self) -> bool:
        return self.buffer.closed

    @property
    def name(self) -> str | bytes | int:
        return self.buffer.name

    def fileno(self) -> int:
        """The file descriptor (the binary buffer's)."""
        return self.buffer.fileno()

    def isatty(self) -> bool:
        """Whether the file is a terminal (the binary buffer's answer)."""
        return self.buffer.isatty()

    def readable(self) -> bool:
        """Whether the file reads (the binary buffer's answer)."""
        return self.buffer.readable()

    def writable(self) -> bool:
        """Whether the file writes (the binary buffer's answer)."""
        return self.buffer.writable()

    def seekable(self) -> bool:
        """Whether ``seek`` and ``tell`` work (the binary buffer's answer)."""
        return self.buffer.seekable()

    def __repr__(self) -> str:
        result = f"<{type(self).__module__}.{type(self).__qualname__}"
        with contextlib.suppress(ValueError):
            result += f" name={self.name!r}"
        mode = getattr(self, "mode", None)
        if mode is not None:
            result += f" mode={mode!r}"
        return result + f" encoding={self._encoding!r}>"

    def __getstate__(self) -> NoReturn:
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")

    def _undisturbed(self) -> bool:
        """True if a call that needs no I/O may run at once, without the
        lock: no other call runs or waits (so none can run before it
        returns), and the file is open and attached."""
        buffer = self._buffer
        raw = None if buffer is None else buffer._raw
        return raw is not None and raw._undisturbed()

    # -- decoded text -------------------------------------------------------------

    def _set_decoded_chars(self, chars: str | None) -> None:
        self._decoded_chars = chars
        self._decoded_chars_used = 0

    def _get_decoded_chars(self, n: int = -1) -> str:
        chars = self._decoded_chars
        if chars is None:
            return ""
        used = self._decoded_chars_used
        avail = len(chars) - used
        if n < 0 or n > avail:
            n = avail
        self._decoded_chars_used = used + n
        return chars[used : used + n]

    async def _rollback(self, saved: _Rollback) -> None:
        """Undo a cancelled read: the text state as it was, and the buffer
        back at the position it had (or, unseekable, given back the bytes)."""
        self._decoded_chars = saved.decoded_chars
        self._decoded_chars_used = saved.decoded_chars_used
        self._snapshot = saved.snapshot
        self._b2cratio = saved.b2cratio
        if saved.decoder_state is not None:
            self._decoder.setstate(saved.decoder_state)
        if saved.position is None:
            return
        if self._seekable:
            await self.buffer._seek(saved.position)
        else:
            self.buffer._unread(b"".join(saved.consumed))

    async def _read_chunk(self, size_hint: int, saved: _Rollback) -> bool:
        """Read and decode the next chunk into the decoded text; False at the
        end of the file.  Records what it takes in ``saved``."""
        decoder = self._decoder
        if decoder is None:
            raise UnsupportedOperation("not readable")
        state: tuple[bytes, int] | None = None
        if self._telling or saved.position is None:
            state = decoder.getstate()
            if saved.position is None:
                saved.decoder_state = state
                saved.position = self.buffer.tell() if self._seekable else 0
        if size_hint > 0:
            size_hint = int(max(self._b2cratio, 1.0) * size_hint)
        size = max(self._chunk_size, size_hint)
        if not self._telling:
            # No tell() cookie depends on where chunks start: read more at once.
            size = max(size, _UNTOLD_CHUNK_SIZE)
        buffer = self.buffer
        if self._has_read1:
            input_chunk = await buffer._read1(size)
        else:
            input_chunk = await buffer._read(size)
        saved.consumed.append(input_chunk)
        nbytes = len(input_chunk)
        decoded: str = decoder.decode(input_chunk, nbytes == 0)
        self._set_decoded_chars(decoded)
        nchars = len(decoded)
        self._b2cratio = nbytes / nchars if nchars else 0.0
        if self._telling and state is not None:
            dec_buffer, dec_flags = state
            self._snapshot = (dec_flags, dec_buffer + input_chunk)
        return nbytes > 0 or nchars > 0

    # -- writing ------------------------------------------------------------------

    async def _writeflush(self) -> None:
        """Hand the pending bytes to the buffer.  If that is cancelled (which
        happens only before it starts) they stay pending; after any other
        failure they are dropped, as io drops them."""
        if not self._pending:
            return
        data = bytes(self._pending)
        try:
            await self.buffer._write(data)
        except asyncio.CancelledError:
            raise  # nothing was taken: the bytes stay pending
        except BaseException:
            self._pending.clear()
            raise
        self._pending.clear()

    async def write(self, text: str) -> int:
        """Like ``io.TextIOWrapper.write``: encodes ``text`` (translating
        ``"\\n"`` as ``newline`` asks) and returns its length.  The bytes reach
        the buffer once 8 KiB are pending, at once with ``write_through``, and
        the file with a flush when line buffering sees a newline."""
        plain = self._plain_writes
        raw = None if plain is None else plain.buffer._raw
        if (
            plain is not None
            and type(text) is str
            and raw is not None
            and raw._undisturbed()
        ):
            data = text.encode(plain.encoding, plain.errors)
            pending = self._pending
            if len(pending) + len(data) < plain.limit:
                pending += data  # _accept(data): no read state to reset
                return len(text)
            # The pending bytes are due: _write_encoded's work, done at once
            # when the buffer takes them without a flush.
            write_at_once = plain.write_at_once
            if (
                write_at_once is not None
                and len(data) < plain.limit
                and write_at_once(pending + data) is not None
            ):
                pending.clear()
                return len(text)
            await self._write_encoded_locked(data)
            return len(text)
        return await self._write_text(text)

    @serialized
    async def _write_text(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._checkClosed()
        encoder = self._encoder
        if encoder is None:
            raise UnsupportedOperation("not writable")
        length = len(text)
        haslf = False
        if (self._writetranslate and self._writenl is not None) or self._line_buffering:
            haslf = "\n" in text
        if haslf and self._writetranslate and self._writenl is not None:
            text = text.replace("\n", self._writenl)
        needflush = self._line_buffering and (haslf or "\r" in text)
        data = encoder.encode(text)
        if not isinstance(data, bytes):
            raise TypeError(
                f"encoder should return a bytes object, not '{type(data).__name__}'"
            )
        await self._write_encoded(data, needflush)
        return length

    @serialized
    async def _write_encoded_locked(self, data: bytes) -> None:
        await self._write_encoded(data, needflush=False)

    async def _write_encoded(self, data: bytes, needflush: bool) -> None:
        if len(data) >= self._chunk_size:
            # Large data goes to the buffer on its own, after what is pending.
            try:
                await self._writeflush()
            except asyncio.CancelledError:
                self._accept(data)
                raise
        self._accept(data)
        if len(self._pending) >= self._chunk_size or needflush or self._write_through:
            await self._writeflush()
        if needflush:
            await self.buffer._flush()

    def _accept(self, data: bytes) -> None:
        """Take encoded text as written: pending, and the read state reset."""
        self._pending += data
        if self._snapshot is not None:
            self._set_decoded_chars(None)
            self._snapshot = None
        if self._decoder is not None:
            self._decoder.reset()

    async def writelines(self, lines: Iterable[str]) -> None:
        """Like ``io.IOBase.writelines``: ``write`` each string, in order."""
        await self._writelines(lines, self.write)

    # -- reading ------------------------------------------------------------------

    def _check_readable(self) -> None:
        self._checkClosed()
        if self._decoder is None:
            raise UnsupportedOperation("not readable")

    @serialized
    async def read(self, size: int | None = -1) -> str:
        """Like ``io.TextIOWrapper.read``: ``size`` characters, fewer only at
        the end of the file; all to the end if ``size`` is negative or None."""
        n = optional_size(size)
        self._check_readable()
        await self._writeflush()
        if n < 0:
            data = await self.buffer._read()
            decoded: str = self._decoder.decode(data, True)
            result = self._get_decoded_chars() + decoded
            if self._snapshot is not None:
                self._set_decoded_chars(None)
                self._snapshot = None
            return result
        saved = _Rollback(self)
        result = self._get_decoded_chars(n)
        remaining = n - len(result)
        if remaining <= 0:
            return result
        chunks = [result]
        try:
            while remaining > 0:
                if not await self._read_chunk(remaining, saved):
                    break
                result = self._get_decoded_chars(remaining)
                chunks.append(result)
                remaining -= len(result)
        except asyncio.CancelledError:
            await self._rollback(saved)
            raise
        return "".join(chunks)

    async def readline(self, size: int = -1) -> str:
        """Like ``io.TextIOWrapper.readline``: up to and including the next
        line ending (as ``newline`` defines it), at most ``size`` characters."""
        if size == -1 and type(size) is int:
            line = self._decoded_line()
            if line is not None:
                return line
        return await self._readline_locked(ssize(size))

    @serialized
    async def _readline_locked(self, limit: int) -> str:
        return await self._readline(limit)

    def _decoded_line(self) -> str | None:
        """The next line if it is whole in the decoded text and may be taken
        at once (see ``_undisturbed``); None otherwise."""
        chars = self._decoded_chars
        if not chars or self._pending or not self._undisturbed():
            return None
        start = self._decoded_chars_used
        newline = self._plain_readnl
        if newline is not None:
            end = chars.find(newline, start) + 1
        else:
            end = self._find_line_ending(chars, start)[0]
        if end <= 0:
            return None
        self._decoded_chars_used = end
        return chars[start:end]

    def __aiter__(self) -> AsyncIterator[str]:  # type: ignore[override]
        """The lines, each what ``__anext__`` gives; like io's iterator, it
        goes on after the end of the file if more text arrives."""
        self._checkClosed()
        if TextLines is None:
            return self
        return TextLines(self)  # type: ignore[call-arg]

    async def __anext__(self) -> str:
        line = self._decoded_line()
        if line is None:
            line = await self._next_line()
            if line is None:
                raise StopAsyncIteration
        self._telling = False  # as io's next() does
        return line

    async def _iter_next(self) -> str | None:
        self.buffer  # noqa: B018 (fails once detached)
        self._telling = False
        line = await self._readline(-1)
        if not line:
            self._snapshot = None
            self._telling = self._seekable
            return None
        return line

    def _find_line_ending(self, line: str, start: int) -> tuple[int, int]:
        """(end of the first line ending at or after ``start``, or -1; and
        where the text that cannot hold a line ending yet ends)."""
        if self._readtranslate:
            end = line.find("\n", start)
            return (end + 1, len(line)) if end >= 0 else (-1, len(line))
        if self._readuniversal:
            lf = line.find("\n", start)
            cr = line.find("\r", start)
            if cr < 0:
                return (lf + 1, len(line)) if lf >= 0 else (-1, len(line))
            if 0 <= lf < cr:
                return lf + 1, len(line)
            return (cr + 2 if lf == cr + 1 else cr + 1), len(line)
        readnl = self._readnl
        assert readnl
        end = line.find(readnl, start)
        if end >= 0:
            return end + len(readnl), len(line)
        if len(readnl) > 1 and len(line) > start and line.endswith(readnl[0]):
            return -1, len(line) - 1  # a "\r" that may start "\r\n"
        return -1, len(line)

    async def _readline(self, limit: int) -> str:
        self._checkClosed()
        await self._writeflush()
        saved = _Rollback(self)
        try:
            return await self._readline_chunks(limit, saved)
        except asyncio.CancelledError:
            await self._rollback(saved)
            raise

    async def _readline_chunks(self, limit: int, saved: _Rollback) -> str:
        chunks: list[str] = []
        chunked = 0
        remaining: str | None = None
        line: str | None = None
        start = endpos = offset_to_buffer = 0
        while True:
            more = True
            while not self._decoded_chars:
                more = await self._read_chunk(0, saved)
                if not more:
                    break
            if not more:
                self._set_decoded_chars(None)
                self._snapshot = None
                line = None
                break
            decoded = self._decoded_chars
            assert decoded is not None
            if remaining is None:
                line = decoded
                start = self._decoded_chars_used
                offset_to_buffer = 0
            else:
                line = remaining + decoded
                start = 0
                offset_to_buffer = len(remaining)
                remaining = None
            endpos, consumed = self._find_line_ending(line, start)
            if endpos >= 0:
                if limit >= 0 and (endpos - start) + chunked >= limit:
                    endpos = start + limit - chunked
                break
            endpos = consumed
            if limit >= 0 and (endpos - start) + chunked >= limit:
                endpos = start + limit - chunked
                break
            if endpos > start:
                chunks.append(line[start:endpos])
                chunked += endpos - start
            if endpos < len(line):
                remaining = line[endpos:]
            line = None
            self._set_decoded_chars(None)
        if line is not None:
            self._decoded_chars_used = endpos - offset_to_buffer
            line = line[start:endpos]
        if remaining is not None:
            chunks.append(remaining)
        if chunks:
            if line is not None:
                chunks.append(line)
            return "".join(chunks)
        return line or ""

    # -- positioning ----------------------------------------------------------------

    def tell(self) -> int:
        """Like ``io.TextIOWrapper.tell``: an opaque cookie for ``seek``,
        equal to the one io returns.  Plain: instead of flushing, it counts the
        bytes not yet written; the decoder state is rebuilt as io does.  In
        append mode, where the place they land depends on what other writers
        append meanwhile, it writes them as io does, with blocking system
        calls, unless another call on the file is in flight."""
        self._checkClosed()
        if not self._seekable:
            raise UnsupportedOperation("underlying stream is not seekable")
        if not self._telling:
            raise OSError("telling position disabled by next() call")
        buffer = self.buffer
        if buffer.raw._appending and self._lock.idle:
            pending, self._pending[:] = bytes(self._pending), b""
            buffer._flush_now(pending)
        position = buffer._tell_flushed(len(self._pending))
        decoder = self._decoder
        if decoder is None or self._snapshot is None:
            return position
        dec_flags, next_input = self._snapshot
        start_pos = position - len(next_input)
        chars_to_skip = self._decoded_chars_used
        if chars_to_skip == 0:
            return _pack_cookie(start_pos, dec_flags)
        saved_state = decoder.getstate()
        try:
            return self._reconstruct_cookie(
                start_pos, dec_flags, next_input, chars_to_skip
            )
        finally:
            decoder.setstate(saved_state)

    def _reconstruct_cookie(
        self, start_pos: int, dec_flags: int, next_input: bytes, chars_to_skip: int
    ) -> int:
        """Walk the decoder from the snapshot point to the position; the
        cookie names the last safe start point before it (C's algorithm)."""
        decoder = self._decoder
        # Fast search for a start point close to the position.
        skip_bytes = int(self._b2cratio * chars_to_skip)
        skip_back = 1
        while skip_bytes > 0:
            self._reset_decoder(start_pos, dec_flags)
            decoded = len(decoder.decode(next_input[:skip_bytes]))
            if decoded <= chars_to_skip:
                dec_buffer, flags = decoder.getstate()
                if not dec_buffer:
                    dec_flags = flags
                    chars_to_skip -= decoded
                    break
                skip_bytes -= len(dec_buffer)
                skip_back = 1
            else:
                skip_bytes -= skip_back
                skip_back *= 2
        if skip_bytes <= 0:
            skip_bytes = 0
            self._reset_decoder(start_pos, dec_flags)
        start_pos += skip_bytes
        if chars_to_skip == 0:
            return _pack_cookie(start_pos, dec_flags)
        # Feed one byte at a time, noting the last safe start point.
        chars_decoded = 0
        bytes_to_feed = 0
        need_eof = False
        for i in range(skip_bytes, len(next_input)):
            chars_decoded += len(decoder.decode(next_input[i : i + 1]))
            bytes_to_feed += 1
            dec_buffer, flags = decoder.getstate()
            if not dec_buffer and chars_decoded <= chars_to_skip:
                start_pos += bytes_to_feed
                chars_to_skip -= chars_decoded
                dec_flags = flags
                bytes_to_feed = chars_decoded = 0
            if chars_decoded >= chars_to_skip:
                break
        else:
            chars_decoded += len(decoder.decode(b"", True))
            need_eof = True
            if chars_decoded < chars_to_skip:
                raise OSError("can't reconstruct logical file position")
        return _pack_cookie(
            start_pos, dec_flags, bytes_to_feed, need_eof, chars_to_skip
        )

    @serialized
    async def seek(self, cookie: int, whence: int = os.SEEK_SET) -> int:
        """Like ``io.TextIOWrapper.seek``: to 0 or a ``tell()`` cookie
        (``SEEK_SET``), to the end (``seek(0, SEEK_END)``) or nowhere
        (``seek(0, SEEK_CUR)``).  Flushes first.  If it is cancelled after
        moving, it moves back."""
        whence = c_int(whence)
        self._checkClosed()
        if not self._seekable:
            raise UnsupportedOperation("underlying stream is not seekable")
        if whence == os.SEEK_CUR:
            if cookie != 0:
                raise UnsupportedOperation("can't do nonzero cur-relative seeks")
            cookie = self.tell()  # with tell()'s errors
            if self._pending and self.buffer.raw._appending:
                # Where the pending text lands is known once it is written.
                await self._flush()
                cookie = self.tell()
        elif whence == os.SEEK_END:
            if cookie != 0:
                raise UnsupportedOperation("can't do nonzero end-relative seeks")
            await self._flush()
            position = await self.buffer._seek(0, os.SEEK_END)
            self._set_decoded_chars(None)
            self._snapshot = None
            if self._decoder is not None:
                self._decoder.reset()
            self._reset_encoder(position == 0)
            return position
        elif whence != os.SEEK_SET:
            raise ValueError(
                f"invalid whence ({whence}, should be "
                f"{os.SEEK_SET}, {os.SEEK_CUR} or {os.SEEK_END})"
            )
        if cookie < 0:
            raise ValueError(f"negative seek position {cookie!r}")
        await self._flush()
        start_pos, dec_flags, bytes_to_feed, need_eof, chars_to_skip = _unpack_cookie(
            cookie
        )
        buffer = self.buffer
        saved = _Rollback(self)
        if self._decoder is not None:
            saved.decoder_state = self._decoder.getstate()
        saved.position = buffer.tell()
        await buffer._seek(start_pos)
        try:
            self._set_decoded_chars(None)
            self._snapshot = None
            if self._decoder is not None:
                self._reset_decoder(start_pos, dec_flags)
            if chars_to_skip:
                if self._decoder is None:
                    raise UnsupportedOperation("not readable")
                input_chunk = await buffer._read(bytes_to_feed)
                self._snapshot = (dec_flags, input_chunk)
                self._set_decoded_chars(self._decoder.decode(input_chunk, need_eof))
                assert self._decoded_chars is not None
                if len(self._decoded_chars) < chars_to_skip:
                    raise OSError("can't restore logical file position")
                self._decoded_chars_used = chars_to_skip
            else:
                self._snapshot = (dec_flags, b"")
        except asyncio.CancelledError:
            await self._rollback(saved)
            raise
        self._reset_encoder(start_pos == 0 and dec_flags == 0)
        return cookie

    @serialized
    async def truncate(self, size: int | None = None) -> int:
        """Like ``io.TextIOWrapper.truncate``: flushes, then truncates the
        buffer at ``size`` bytes, by default at the buffer's position (which
        is past text read ahead but not yet returned, as in io)."""
        await self._flush()
        return await self.buffer._truncate(size)

    # -- flushing and closing -------------------------------------------------------

    async def _flush(self) -> None:
        self._checkClosed()
        self._telling = self._seekable
        await self._writeflush()
        await self.buffer._flush()

    @serialized
    async def flush(self) -> None:
        """Write out pending text and the buffer (no fsync)."""
        await self._flush()

    @serialized
    @runs_to_the_end
    async def close(self) -> None:
        """Flush, then close the buffer even if the flush failed; idempotent."""
        buffer = self.buffer
        if buffer.closed:
            return
        try:
            await self._flush()
        finally:
            await buffer._close()

    @serialized
    async def detach(self) -> _BufferedBase:
        """Flush and return the buffer; this object is unusable afterwards."""
        await self._flush()
        buffer = self.buffer
        self._buffer = None
        buffer._wrapped = False
        self._update_plain_writes()
        return buffer

    @serialized
    async def reconfigure(
        self,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | EllipsisType | None = ...,
        line_buffering: bool | None = None,
        write_through: bool | None = None,
    ) -> None:
        """Like ``io.TextIOWrapper.reconfigure``: flushes, then changes the
        given settings.  The encoding, errors and newline can change only
        before the first read."""
        for argument, value in (
            ("encoding", encoding),
            ("errors", errors),
            ("newline", None if newline is ... else newline),
        ):
            if value is not None and not isinstance(value, str):
                if sys.version_info < (3, 11):
                    raise TypeError("bad argument type for built-in operation")
                raise TypeError(
                    f"reconfigure() argument '{argument}' must be str or None, "
                    f"not {type(value).__name__}"
                )
        newline_changed = newline is not ...
        if self._decoded_chars is not None and (
            encoding is not None or errors is not None or newline_changed
        ):
            raise UnsupportedOperation(
                "It is not possible to set the encoding or newline "
                "of stream after the first read"
            )
        if isinstance(newline, str) or newline is None:
            _check_newline(newline)
        new_line_buffering = (
            self._line_buffering if line_buffering is None else bool(line_buffering)
        )
        new_write_through = (
            self._write_through if write_through is None else bool(write_through)
        )
        await self._flush()
        self._b2cratio = 0.0
        if isinstance(newline, str) or newline is None:
            self._set_newline(newline)
        self._change_encoding(encoding, errors, newline_changed)
        self._line_buffering = new_line_buffering
        self._write_through = new_write_through
        self._update_plain_writes()

    def _change_encoding(
        self, encoding: str | None, errors: str | None, newline_changed: bool
    ) -> None:
        if encoding is None and errors is None and not newline_changed:
            return
        if encoding is None:
            encoding = self._encoding
            if errors is None:
                errors = self._errors
        else:
            if encoding == "locale":
                encoding = _locale_encoding()
            if errors is None:
                errors = "strict"
        codec_info = _lookup_text_encoding(encoding)
        self._set_codecs(codec_info, errors)
        self._encoding = encoding
        self._errors = errors
        self._fix_encoder_state()

    # -- beyond io: positional I/O on the bytes -----------------------------------

    @serialized
    async def pread(self, size: int, offset: int) -> bytes:
        """The buffer's ``pread``: up to ``size`` bytes (not characters) at
        byte ``offset``, as the file holds them after pending text is
        written; the position does not move."""
        self._checkClosed()
        await self._writeflush()
        return await self.buffer._pread(size, offset)

    @serialized
    async def preadinto(self, buffer: Buffer, offset: int) -> int:
        """The buffer's ``preadinto``, after pending text is written."""
        self._checkClosed()
        await self._writeflush()
        return await self.buffer._preadinto(buffer, offset)

    @serialized
    async def pwrite(self, data: Buffer, offset: int) -> int:
        """The buffer's ``pwrite``: ``data`` is bytes (encode text yourself),
        written at byte ``offset`` after pending text; the position does not
        move.  Text already decoded but not yet read is not re-read."""
        self._checkClosed()
        await self._writeflush()
        return await self.buffer._pwrite(data, offset)

    @serialized
    async def stat(self) -> os.stat_result:
        """``os.fstat`` of the file, after pending text is written."""
        self._checkClosed()
        await self._writeflush()
        return await self.buffer._stat()

    @serialized
    async def fsync(self) -> None:
        """Write out pending text and the buffer, then fsync."""
        self._checkClosed()
        await self._writeflush()
        await self.buffer._fsync()

    @serialized
    async def datasync(self) -> None:
        """Write out pending text and the buffer, then fdatasync."""
        self._checkClosed()
        await self._writeflush()
        await self.buffer._datasync()

    # -- finalisation ---------------------------------------------------------------

    def _warns_unclosed(self) -> bool:
        return self.buffer._warns_unclosed()

    def _flush_at_collection(self) -> None:
        buffer = self.buffer
        if self._lock.idle and buffer._writes:
            pending, self._pending[:] = bytes(self._pending), b""
            buffer._flush_now(pending)

    def _release_now(self) -> None:
        if self._buffer is not None:
            self._buffer._release_now()


def _pack_cookie(
    position: int,
    dec_flags: int = 0,
    bytes_to_feed: int = 0,
    need_eof: bool = False,
    chars_to_skip: int = 0,
) -> int:
    packed = _COOKIE.pack(position, dec_flags, bytes_to_feed, chars_to_skip, need_eof)
    return int.from_bytes(packed, "little")


def _unpack_cookie(cookie: int) -> tuple[int, int, int, bool, int]:
    packed = int(cookie).to_bytes(_COOKIE.size, "little")
    position, dec_flags, bytes_to_feed, chars_to_skip, need_eof = _COOKIE.unpack(packed)
    return position, dec_flags, bytes_to_feed, bool(need_eof), chars_to_skip


if FastPathMethod is not None:
    TextIOWrapper.write = FastPathMethod(TextIOWrapper.write, write_plainly)  # type: ignore[method-assign]
