"""Positional reads and writes on every platform, for the pure-Python backend and
the file layers.

On POSIX these are ``os.pread``, ``os.preadv`` and ``os.pwrite``.  Windows has
none of them: there they are ``ReadFile``/``WriteFile`` on the descriptor's handle
with the offset in an ``OVERLAPPED`` structure (what libuv does), so reads and
writes at different offsets of one descriptor need no lock around ``lseek`` +
``read`` and are right at any concurrency.  (Windows' I/O manager still runs the
transfers of one file object opened for synchronous I/O, as every C runtime
descriptor is, one at a time, as for libuv; separate descriptors of one file, and
separate files, run in parallel.)

The descriptor's own position: on Windows such a call on a handle opened for
synchronous I/O (every CRT descriptor) also moves the handle's file pointer.  Here
the position is saved when the first positional call on a descriptor starts and
put back when the last one in flight ends, so that, as after ``pread`` on POSIX,
a descriptor's position is the same after positional calls as before them.  While
positional calls are in flight on a descriptor, its position is unspecified; code
that mixes them with ``read``/``write``/``lseek`` on the same descriptor at the
same time gets what it gets on Windows with libuv.

Errors are those ``io`` raises: a Windows error code becomes the ``OSError``
subclass, ``errno`` and ``winerror`` Python maps it to (``ERROR_LOCK_VIOLATION``
and ``ERROR_SHARING_VIOLATION`` are ``PermissionError`` with ``errno.EACCES``),
with the descriptor as ``filename``; ``ERROR_ACCESS_DENIED`` (reading a descriptor
opened for writing only, or the reverse) is ``EBADF``, as the C runtime's
``read``/``write`` (so ``os.read``) and POSIX's ``pread`` report it; reading at or
past the end (``ERROR_HANDLE_EOF``) returns nothing, as ``pread`` does.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = (
    "OPEN_FLAGS",
    "POSITIONAL_WRITES_APPEND",
    "advise_willneed",
    "fdatasync",
    "fsync",
    "is_direct",
    "pread",
    "preadinto",
    "pwrite",
    "yield_cpu",
)

#: Flags every descriptor asyncfile opens carries, as ``io.FileIO`` sets them:
#: not inherited by child processes (``O_CLOEXEC``; on Windows ``os.open``
#: adds ``O_NOINHERIT`` itself) and, on Windows, ``O_BINARY`` so that the C
#: runtime translates no newlines.
OPEN_FLAGS: int = getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)

#: Whether a positional write on an ``O_APPEND`` descriptor lands at the end
#: whatever its offset (Linux); elsewhere it lands at the offset (POSIX's rule,
#: macOS; and Windows, where ``O_APPEND`` is the C runtime's seek to the end
#: before each ``write``), so an appending caller asks for the end itself.
POSITIONAL_WRITES_APPEND = sys.platform.startswith("linux")


if sys.platform == "win32":
    import ctypes
    import errno
    import msvcrt
    import threading
    import time
    from ctypes import wintypes

    class _Overlapped(ctypes.Structure):
        _fields_ = (
            ("Internal", ctypes.c_void_p),
            ("InternalHigh", ctypes.c_void_p),
            ("Offset", wintypes.DWORD),
            ("OffsetHigh", wintypes.DWORD),
            ("hEvent", wintypes.HANDLE),
        )

    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    _transfer_argtypes = (
        wintypes.HANDLE,
        ctypes.c_void_p,
        wintypes.DWORD,
        ctypes.POINTER(wintypes.DWORD),
        ctypes.POINTER(_Overlapped),
    )
    _ReadFile = _kernel32.ReadFile
    _ReadFile.argtypes = _transfer_argtypes
    _ReadFile.restype = wintypes.BOOL
    _WriteFile = _kernel32.WriteFile
    _WriteFile.argtypes = _transfer_argtypes
    _WriteFile.restype = wintypes.BOOL

    _ERROR_ACCESS_DENIED = 5
    _ERROR_HANDLE_EOF = 38
    _ERROR_BROKEN_PIPE = 109

    #: One call moves at most this much: ReadFile and WriteFile count in a
    #: DWORD, and callers loop over short counts as they do after pread(2).
    _MAX_TRANSFER = 1 << 30

    _positions_lock = threading.Lock()
    #: fd -> [positional calls in flight, the position before the first one]
    _positions: dict[int, list[int]] = {}

    def _enter(fd: int) -> None:
        with _positions_lock:
            entry = _positions.get(fd)
            if entry is None:
                _positions[fd] = [1, os.lseek(fd, 0, os.SEEK_CUR)]
            else:
                entry[0] += 1

    def _leave(fd: int) -> None:
        with _positions_lock:
            entry = _positions[fd]
            entry[0] -= 1
            if entry[0] == 0:
                del _positions[fd]
                os.lseek(fd, entry[1], os.SEEK_SET)

    def _transfer(
        function: object, fd: int, address: int, size: int, offset: int
    ) -> int:
        if offset < 0:
            raise OSError(22, "Invalid argument", fd)
        handle = msvcrt.get_osfhandle(fd)  # OSError(EBADF) for a closed fd
        overlapped = _Overlapped()
        overlapped.Offset = offset & 0xFFFFFFFF
        overlapped.OffsetHigh = offset >> 32
        done = wintypes.DWORD(0)
        _enter(fd)
        try:
            ok = function(  # type: ignore[operator]
                handle,
                address,
                min(size, _MAX_TRANSFER),
                ctypes.byref(done),
                ctypes.byref(overlapped),
            )
            code = 0 if ok else ctypes.get_last_error()
        finally:
            _leave(fd)
        if code in (0, _ERROR_HANDLE_EOF, _ERROR_BROKEN_PIPE):
            return done.value
        if code == _ERROR_ACCESS_DENIED:
            # A handle not opened for this direction: the C runtime's read()
            # and write() (so os.read, os.write and POSIX's pread) say EBADF.
            raise OSError(errno.EBADF, os.strerror(errno.EBADF), fd)
        raise OSError(None, ctypes.FormatError(code).strip(), fd, code)

    def preadinto(fd: int, view: memoryview, offset: int) -> int:
        """Read into ``view`` from ``offset``; the count is short at end of file."""
        if not view.nbytes:
            return 0
        target = (ctypes.c_char * view.nbytes).from_buffer(view)
        try:
            return _transfer(
                _ReadFile, fd, ctypes.addressof(target), view.nbytes, offset
            )
        finally:
            del target  # releases the export of ``view``

    def pread(fd: int, nbytes: int, offset: int) -> bytes:
        """Read up to ``nbytes`` at ``offset``; fewer only at end of file."""
        buffer = bytearray(min(nbytes, _MAX_TRANSFER))
        with memoryview(buffer) as view:
            count = preadinto(fd, view, offset)
        del buffer[count:]
        return bytes(buffer)

    def pwrite(fd: int, data: Buffer, offset: int) -> int:
        """Write ``data`` at ``offset``; return the count written."""
        if not isinstance(data, memoryview):
            data = memoryview(data)
        if not data.nbytes:
            return 0
        if data.readonly:
            # ctypes lends no address of a read-only buffer, but passes a bytes
            # object's own storage: no copy when the view covers a whole bytes.
            source = data.obj if type(data.obj) is bytes else None
            if source is None or len(source) != data.nbytes:
                source = data.tobytes()
            address = ctypes.cast(ctypes.c_char_p(source), ctypes.c_void_p).value
            assert address is not None
            return _transfer(_WriteFile, fd, address, data.nbytes, offset)
        target = (ctypes.c_char * data.nbytes).from_buffer(data)
        try:
            return _transfer(
                _WriteFile, fd, ctypes.addressof(target), data.nbytes, offset
            )
        finally:
            del target

    def fsync(fd: int) -> None:
        """``os.fsync``; a closed ``fd`` is EBADF, as on POSIX, whatever the C
        runtime's ``_commit`` makes of it."""
        msvcrt.get_osfhandle(fd)
        os.fsync(fd)

    fdatasync = fsync  # Windows flushes data and metadata together

    def is_direct(fd: int) -> bool:
        """Whether ``fd`` bypasses the page cache (never, for a CRT descriptor)."""
        return False

    def advise_willneed(fd: int, offset: int, length: int) -> bool:
        """No read-ahead advice on Windows: the cache manager reads ahead itself."""
        return False

    def yield_cpu() -> None:
        """Let a thread waiting for this CPU run before going on."""
        time.sleep(0)  # SwitchToThread(): Windows has no sched_yield

else:
    import fcntl

    if hasattr(os, "preadv"):

        def preadinto(fd: int, view: memoryview, offset: int) -> int:
            """Read into ``view`` from ``offset``; short only at end of file."""
            return os.preadv(fd, [view], offset)

    else:  # a macOS Python built for releases before 11

        def preadinto(fd: int, view: memoryview, offset: int) -> int:
            """Read into ``view`` from ``offset``; short only at end of file."""
            data = os.pread(fd, view.nbytes, offset)
            view[: len(data)] = data
            return len(data)

    pread = os.pread
    pwrite = os.pwrite

    fsync = os.fsync
    #: macOS has no fdatasync: fsync there.
    fdatasync = getattr(os, "fdatasync", os.fsync)

    _O_DIRECT = getattr(os, "O_DIRECT", 0)

    def is_direct(fd: int) -> bool:
        """Whether ``fd`` was opened with ``O_DIRECT`` (never on macOS, which has
        ``F_NOCACHE`` instead and no flag to read back)."""
        return bool(_O_DIRECT) and bool(fcntl.fcntl(fd, fcntl.F_GETFL) & _O_DIRECT)

    if hasattr(os, "posix_fadvise"):

        def advise_willneed(fd: int, offset: int, length: int) -> bool:
            """Ask the device for ``length`` bytes at ``offset``; False if refused."""
            try:
                os.posix_fadvise(fd, offset, length, os.POSIX_FADV_WILLNEED)
            except OSError:
                return False
            return True

    else:

        def advise_willneed(fd: int, offset: int, length: int) -> bool:
            """No ``posix_fadvise`` here (macOS): the kernel reads ahead itself."""
            return False

    def yield_cpu() -> None:
        """Let a thread waiting for this CPU run before going on."""
        os.sched_yield()
