"""Contenders: named ways of doing a case's I/O, discovered at run time.

:func:`discover` imports each family (``sync``, ``asyncfile``, ``caio``,
``aiofile``, ``aiofiles``, ``anyio``) and returns the contenders it can build,
plus the names it cannot with the reason (import error, backend missing). It
never raises for a missing or broken peer.

A contender has an opener per interface it serves (``Contender.openers``, keyed
by a case's ``api``): an async context manager entered on the running loop of
the measured process, which yields the handle that ``api`` defines (see
:mod:`benchmarks.cases`: ``"core"`` a ``CoreHandle``, ``"into"`` an
``IntoHandle``, ``"file"`` a ``FileHandle``; the filesystem calls ``"open"``,
``"stat"``, ``"scandir"``, ``"listdir"`` and ``"copyfile"`` an ``FsHandle``).
``sync`` and ``asyncfile`` serve the first three; the caio variants only
``"core"`` (caio has no ``readinto``); aiofile, aiofiles and anyio ``"file"``.
Of the filesystem calls, each contender serves those its library has:
``sync`` and ``thread`` (``asyncio.to_thread``) all of them, aiofiles all but
``copyfile``, aiofile and anyio ``open``, and ``asyncfile`` ``open`` and what
``asyncfile.os`` offers (see :func:`_asyncfile_fs`).

To add a family: write a ``_family_<name>(found)`` that imports the peer inside
a ``try`` and adds a ``Contender`` per configuration (or an ``Unavailable``
with the reason), and add it to ``FAMILIES``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import importlib
import logging
import os
import shutil
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks.cases import CoreHandle, IntoHandle
from benchmarks.filecases import FileHandle
from benchmarks.fscases import FsHandle, read_whole_file, scandir_list

logger = logging.getLogger(__name__)

BACKENDS = ("linux_uring", "linux_aio", "thread_aio", "python_aio")
"""caio's backend names; one missing from ``variants_asyncio`` is reported."""

AIOFILE_LINE_CHUNK = 64 * 1024
"""``LineReader`` chunk size for aiofile (its default, 4192, is slower here)."""

Opener = Callable[[], AbstractAsyncContextManager[Any]]


@dataclass(frozen=True)
class Contender:
    """A runnable contender; ``detail`` says what it resolves to.

    ``openers``: one per interface (case ``api``) it serves.
    """

    name: str
    family: str
    openers: Mapping[str, Opener] = field(repr=False)
    detail: str = ""

    @property
    def apis(self) -> frozenset[str]:
        """The case interfaces this contender serves."""
        return frozenset(self.openers)

    def open(self, api: str) -> AbstractAsyncContextManager[Any]:
        """Enter to get this contender's handle for ``api``."""
        return self.openers[api]()


@dataclass(frozen=True)
class Unavailable:
    """A contender (or whole family) that cannot run here, and why."""

    name: str
    reason: str


@dataclass
class Discovery:
    contenders: list[Contender] = field(default_factory=list)
    unavailable: list[Unavailable] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)

    def add(self, *items: Contender | Unavailable) -> None:
        for item in items:
            if isinstance(item, Contender):
                self.contenders.append(item)
            else:
                self.unavailable.append(item)

    def find(self, name: str) -> Contender | None:
        return next((c for c in self.contenders if c.name == name), None)

    def extend(
        self, name: str, family: str, api: str, opener: Opener, detail: str
    ) -> None:
        """Give contender ``name`` an ``api`` (adding the contender if new)."""
        old = self.find(name)
        if old is None:
            self.contenders.append(Contender(name, family, {api: opener}, detail))
            return
        joined = "; ".join(filter(None, [old.detail, detail]))
        new = Contender(name, family, {**old.openers, api: opener}, joined)
        self.contenders[self.contenders.index(old)] = new


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _version(package: str) -> str:
    """``__version__`` of ``package`` or its ``_version`` module, else metadata."""
    for name in (package, f"{package}._version"):
        with contextlib.suppress(Exception):
            return str(importlib.import_module(name).__version__)
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        return version(package)
    return "unknown"


def _backend_name(module: ModuleType) -> str:
    """``pkg.core.linux_uring_asyncio`` -> ``linux_uring``."""
    return module.__name__.rsplit(".", 1)[-1].removesuffix("_asyncio")


def _core_contender(
    name: str, family: str, context_class: Any, detail: str, **kwargs: Any
) -> Contender:
    """A contender over a caio-style ``AsyncioContext`` class; ``"into"`` too
    if the class has ``readinto`` (caio's has not)."""

    @contextlib.asynccontextmanager
    async def open_context() -> AsyncIterator[CoreHandle]:
        async with context_class(**kwargs) as ctx:
            yield CoreHandle(read=ctx.read)

    @contextlib.asynccontextmanager
    async def open_into() -> AsyncIterator[IntoHandle]:
        async with context_class(**kwargs) as ctx:
            yield IntoHandle(readinto=ctx.readinto)

    openers: dict[str, Opener] = {"core": open_context}
    if hasattr(context_class, "readinto"):
        openers["into"] = open_into
    return Contender(name, family, openers, detail)


def _file_opener(handle: FileHandle | FsHandle) -> Opener:
    """An opener that yields ``handle`` (these handles hold no resources)."""

    @contextlib.asynccontextmanager
    async def open_handle() -> AsyncIterator[FileHandle | FsHandle]:
        yield handle

    return open_handle


def _family_sync(found: Discovery) -> None:
    @contextlib.asynccontextmanager
    async def open_pread() -> AsyncIterator[CoreHandle]:
        yield CoreHandle(blocking=os.pread)

    @contextlib.asynccontextmanager
    async def open_preadv() -> AsyncIterator[IntoHandle]:
        yield IntoHandle(
            blocking=lambda fd, buffer, offset: os.preadv(fd, [buffer], offset)
        )

    blocking = _file_opener(FileHandle(blocking=open))
    openers = {
        "core": open_pread,
        "into": open_preadv,
        "file": blocking,
        "stream": blocking,
        "serve": blocking,
        "log": _file_opener(FileHandle(log_handler=_file_handler)),
    }
    openers.update(
        {
            "open": _file_opener(FsHandle(blocking=read_whole_file)),
            "stat": _file_opener(FsHandle(blocking=os.stat)),
            "scandir": _file_opener(FsHandle(blocking=os.scandir)),
            "listdir": _file_opener(FsHandle(blocking=os.listdir)),
            "copyfile": _file_opener(FsHandle(blocking=shutil.copyfile)),
        }
    )
    detail = (
        "os.pread (core), os.preadv (into), the built-in open() (file, stream, "
        "serve, open), logging.FileHandler (log), os.stat, os.scandir, os.listdir "
        "and shutil.copyfile on the loop thread (blocks the loop)"
    )
    found.add(Contender("sync", "sync", openers, detail))
    queue_detail = (
        "logging.handlers.QueueHandler on the loop, QueueListener thread "
        "writing through logging.FileHandler"
    )
    queued = {"log": _file_opener(FileHandle(log_handler=_queue_handler))}
    found.add(Contender("sync[queue]", "sync", queued, queue_detail))


def _file_handler(path: Path) -> tuple[Any, Callable[[], Any]]:
    import logging

    handler = logging.FileHandler(path, encoding="utf-8")

    async def finish() -> None:
        handler.close()

    return handler, finish


def _queue_handler(path: Path) -> tuple[Any, Callable[[], Any]]:
    import asyncio
    import logging
    import logging.handlers
    import queue

    records: queue.SimpleQueue[Any] = queue.SimpleQueue()
    target = logging.FileHandler(path, encoding="utf-8")
    target.setFormatter(logging.Formatter("%(message)s"))
    listener = logging.handlers.QueueListener(records, target)
    listener.start()

    async def finish() -> None:
        await asyncio.to_thread(listener.stop)
        target.close()

    return logging.handlers.QueueHandler(records), finish


def _family_thread(found: Discovery) -> None:
    """``thread``: each filesystem call of ``sync`` in ``asyncio.to_thread``."""
    calls: dict[str, Callable[..., Any]] = {
        "open": read_whole_file,
        "stat": os.stat,
        "scandir": scandir_list,
        "listdir": os.listdir,
        "copyfile": shutil.copyfile,
    }
    openers = {
        api: _file_opener(FsHandle(call=functools.partial(asyncio.to_thread, call)))
        for api, call in calls.items()
    }
    detail = (
        "asyncio.to_thread (the default executor) of one blocking call: open, "
        "read and close (open); os.stat; list(os.scandir()); os.listdir; "
        "shutil.copyfile"
    )
    found.add(Contender("thread", "thread", openers, detail))


def _family_core(
    found: Discovery, package: str, tuned: dict[str, dict[str, Any]]
) -> None:
    """``package`` and ``package[<backend>]`` for a caio-compatible package.

    ``tuned`` gives keyword arguments per backend (e.g. caio's best config).
    """
    try:
        core = importlib.import_module(package)
        default = core.AsyncioContext
        variants = tuple(core.variants_asyncio)
    except Exception as exc:  # any failure means "skip, say why"
        logger.debug("cannot use %s", package, exc_info=True)
        found.add(Unavailable(package.split(".")[0], _describe(exc)))
        return
    family = package.split(".")[0]
    found.versions[family] = _version(family)
    detail = f"{default.__module__}.AsyncioContext() (package default)"
    found.add(_core_contender(family, family, default, detail))
    present = {_backend_name(module): module for module in variants}
    for backend in [*BACKENDS, *(b for b in present if b not in BACKENDS)]:
        name = f"{family}[{backend}]"
        module = present.get(backend)
        if module is None:
            found.add(Unavailable(name, f"not in {package}.variants_asyncio"))
            continue
        kwargs = tuned.get(backend, {})
        options = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        detail = f"{module.__name__}.AsyncioContext({options})"
        context = getattr(module, "AsyncioContext", None)
        if context is None:
            found.add(Unavailable(name, f"{module.__name__} has no AsyncioContext"))
            continue
        found.add(_core_contender(name, family, context, detail, **kwargs))


def _family_asyncfile(found: Discovery) -> None:
    """``asyncfile[<backend>]`` (core) and ``asyncfile`` (core and file)."""
    _family_core(found, "asyncfile.core", {})
    try:
        package = importlib.import_module("asyncfile")
        open_file = package.open
        backend = package.core.selection.name
    except Exception as exc:  # any failure means "skip, say why"
        logger.debug("cannot use asyncfile.open", exc_info=True)
        found.add(Unavailable("asyncfile", f"asyncfile.open: {_describe(exc)}"))
        return

    def opened(path: Path, mode: str, encoding: str | None) -> Any:
        return open_file(path, mode, encoding=encoding)

    detail = f"asyncfile.open() (file; the loop's {backend} context)"
    opener = _file_opener(FileHandle(open=opened))
    found.extend("asyncfile", "asyncfile", "file", opener, detail)
    chunk_reader = package.ChunkReader

    def chunks(f: Any, size: int) -> Any:
        return chunk_reader(f, chunk_size=size)

    streams = _file_opener(FileHandle(open=opened, chunks=chunks))
    detail = "stream, serve: asyncfile.ChunkReader(f, chunk_size=n) (depth 4)"
    found.extend("asyncfile", "asyncfile", "stream", streams, detail)
    found.extend("asyncfile", "asyncfile", "serve", streams, "")
    handler_class = package.AsyncFileHandler

    def log_handler(path: Path) -> tuple[Any, Callable[[], Any]]:
        handler = handler_class(path)
        return handler, handler.aclose

    logs = _file_opener(FileHandle(log_handler=log_handler))
    detail = "log: asyncfile.AsyncFileHandler (finished by await handler.aclose())"
    found.extend("asyncfile", "asyncfile", "log", logs, detail)

    async def read_file(path: str) -> bytes:
        async with open_file(path, "rb") as f:
            data: bytes = await f.read()
            return data

    opener = _file_opener(FsHandle(call=read_file))
    detail = 'open: async with asyncfile.open(p, "rb") as f: await f.read()'
    found.extend("asyncfile", "asyncfile", "open", opener, detail)
    served = _asyncfile_fs(package.__name__)
    for api, handle, name in served:
        found.extend("asyncfile", "asyncfile", api, _file_opener(handle), name)
    missing = [api for api in FS_CALLS if api not in {s[0] for s in served}]
    if missing:
        detail = f"{', '.join(missing)}: none (not in {package.__name__}.os)"
        found.extend("asyncfile", "asyncfile", "open", opener, detail)


FS_CALLS = {
    "stat": "os.stat",
    "scandir": "os.scandir",
    "listdir": "os.listdir",
    "copyfile": "os.copyfile",
}
"""The ``asyncfile`` calls of the filesystem interfaces, by interface:
``await stat(path)``, ``async for entry in scandir(path)``, ``await
listdir(path)``, ``await copyfile(src, dst)`` (else ``shutil.copyfile``)."""


def _asyncfile_fs(package: str) -> list[tuple[str, FsHandle, str]]:
    """``(api, handle, description)`` for each filesystem call the package has.

    Nothing unless ``<package>.os`` imports; then one per function of
    :data:`FS_CALLS` it defines (``copyfile`` also from ``<package>.shutil``).
    """
    try:
        fs = importlib.import_module(f"{package}.os")
    except ImportError:
        return []
    served = []
    for api, call in FS_CALLS.items():
        function = getattr(fs, api, None)
        where = f"{package}.{call}"
        if function is None and api == "copyfile":
            with contextlib.suppress(ImportError):
                shutil_module = importlib.import_module(f"{package}.shutil")
                function = getattr(shutil_module, api, None)
                where = f"{package}.shutil.copyfile"
        if function is None:
            continue
        if api == "scandir":
            handle = FsHandle(stream=function)
            text = f"scandir: async for entry in {where}(path)"
        else:
            handle = FsHandle(call=function)
            text = f"{api}: await {where}(...)"
        served.append((api, handle, text))
    return served


def _family_aiofile(found: Discovery) -> None:
    """aiofile's ``async_open``, with its own chunk, line and write idioms."""
    try:
        aiofile = importlib.import_module("aiofile")
        caio = importlib.import_module("caio")
        async_open = aiofile.async_open
        line_reader = aiofile.LineReader
        context = caio.AsyncioContext.__module__
    except Exception as exc:  # any failure means "skip, say why"
        logger.debug("cannot use aiofile", exc_info=True)
        found.add(Unavailable("aiofile", _describe(exc)))
        return
    found.versions["aiofile"] = _version("aiofile")

    def opened(path: Path, mode: str, encoding: str | None) -> Any:
        if encoding is None:
            return async_open(path, mode)
        return async_open(path, mode, encoding=encoding)

    def lines(afp: Any) -> Any:
        return line_reader(afp.file, chunk_size=AIOFILE_LINE_CHUNK)

    handle = FileHandle(
        open=opened,
        chunks=lambda afp, size: afp.iter_chunked(size),
        lines=lines,
    )
    detail = (
        "aiofile.async_open(); chunks: afp.iter_chunked(n); lines: "
        f"LineReader(afp.file, chunk_size={AIOFILE_LINE_CHUNK}); writes: "
        f"await afp.write(s) (caio's default context, {context})"
    )
    reader = aiofile.Reader
    streaming = FileHandle(
        open=opened, chunks=lambda afp, size: reader(afp.file, chunk_size=size)
    )

    async def read_file(path: str) -> bytes:
        async with async_open(path, "rb") as afp:
            data: bytes = await afp.read()
            return data

    openers = {
        "file": _file_opener(handle),
        "stream": _file_opener(streaming),
        "serve": _file_opener(streaming),
        "open": _file_opener(FsHandle(call=read_file)),
    }
    detail += "; stream, serve: Reader(afp.file, chunk_size=n)"
    detail += '; open: async with async_open(p, "rb") as afp: await afp.read()'
    found.add(Contender("aiofile", "aiofile", openers, detail))


def _family_aiofiles(found: Discovery) -> None:
    try:
        aiofiles = importlib.import_module("aiofiles")
        open_file = aiofiles.open
    except Exception as exc:  # any failure means "skip, say why"
        logger.debug("cannot use aiofiles", exc_info=True)
        found.add(Unavailable("aiofiles", _describe(exc)))
        return
    found.versions["aiofiles"] = _version("aiofiles")

    def opened(path: Path, mode: str, encoding: str | None) -> Any:
        return open_file(path, mode, encoding=encoding)

    async def read_file(path: str) -> bytes:
        async with open_file(path, "rb") as f:
            data: bytes = await f.read()
            return data

    opener = _file_opener(FileHandle(open=opened))
    detail = (
        "aiofiles.open() (every call in the loop's default executor); "
        "aiofiles.os.stat, aiofiles.os.listdir; scandir: the iterator that "
        "await aiofiles.os.scandir(path) returns, iterated on the loop"
    )
    openers = {
        "file": opener,
        "stream": opener,
        "serve": opener,
        "open": _file_opener(FsHandle(call=read_file)),
    }
    with contextlib.suppress(Exception):  # older aiofiles: open() only
        fs = importlib.import_module("aiofiles.os")
        for api in ("stat", "scandir", "listdir"):
            if hasattr(fs, api):
                openers[api] = _file_opener(FsHandle(call=getattr(fs, api)))
    found.add(Contender("aiofiles", "aiofiles", openers, detail))


def _family_aiohttp(found: Discovery) -> None:
    """aiohttp's own ``FileResponse`` (the ``serve`` case only)."""
    try:
        web = importlib.import_module("aiohttp.web")
        file_response = web.FileResponse
    except Exception as exc:  # any failure means "skip, say why"
        logger.debug("cannot use aiohttp", exc_info=True)
        found.add(Unavailable("aiohttp", _describe(exc)))
        return
    found.versions["aiohttp"] = _version("aiohttp")

    async def respond(request: Any, path: Path) -> Any:
        return file_response(path, chunk_size=256 * 1024)

    opener = _file_opener(FileHandle(respond=respond))
    detail = "aiohttp.web.FileResponse(path) (sendfile on the loop)"
    found.add(Contender("aiohttp", "aiohttp", {"serve": opener}, detail))


def _family_anyio(found: Discovery) -> None:
    try:
        anyio = importlib.import_module("anyio")
        open_file = anyio.open_file
    except Exception as exc:  # any failure means "skip, say why"
        logger.debug("cannot use anyio", exc_info=True)
        found.add(Unavailable("anyio", _describe(exc)))
        return
    found.versions["anyio"] = _version("anyio")

    @contextlib.asynccontextmanager
    async def opened(path: Path, mode: str, encoding: str | None) -> AsyncIterator[Any]:
        async with await open_file(path, mode, encoding=encoding) as f:
            yield f

    async def read_file(path: str) -> bytes:
        async with await open_file(path, "rb") as f:
            data: bytes = await f.read()
            return data

    openers = {
        "file": _file_opener(FileHandle(open=opened)),
        "open": _file_opener(FsHandle(call=read_file)),
    }
    detail = "anyio.open_file() on asyncio (every call in a worker thread)"
    found.add(Contender("anyio", "anyio", openers, detail))


PORTABLE_TREE = "ASYNCFILE_BENCH_PORTABLE"
"""A source tree with the portable native core built in place (macOS's build,
``scripts/test-portable`` leaves one in ``build/portable``)."""

BEFORE_TREE = "ASYNCFILE_BENCH_BEFORE"
"""A source tree of an earlier asyncfile with its core built in place (``git
worktree add DIR COMMIT``, then ``python setup.py build_ext --inplace`` in DIR):
its contenders run beside today's, a before/after comparison in one run."""


def _family_portable(found: Discovery) -> None:
    """``portable`` and ``portable[<backend>]``: the ``asyncfile`` contenders on
    the portable build of the tree that ``$ASYNCFILE_BENCH_PORTABLE`` names."""
    _family_from_tree(found, "portable", PORTABLE_TREE, portable=True)


def _family_before(found: Discovery) -> None:
    """``before`` and ``before[<backend>]``: the ``asyncfile`` contenders on the
    earlier tree that ``$ASYNCFILE_BENCH_BEFORE`` names."""
    _family_from_tree(found, "before", BEFORE_TREE, portable=False)


def _family_from_tree(
    found: Discovery, family: str, variable: str, *, portable: bool
) -> None:
    """The ``asyncfile`` contenders, renamed ``family``, on the source tree that
    ``$variable`` names (its core built as ``portable`` says)."""
    tree = os.environ.get(variable)
    if not tree:
        found.add(Unavailable(family, f"${variable} is not set"))
        return
    if "asyncfile" in sys.modules:
        found.add(Unavailable(family, "asyncfile is already imported"))
        return
    sys.path.insert(0, os.path.abspath(tree))  # a worker serves one family
    try:
        from asyncfile.core import _aio

        if not _aio.__file__.startswith(os.path.abspath(tree)):
            raise ImportError(f"{_aio.__file__} is not in {tree}")
        if getattr(_aio, "PORTABLE", False) != portable:
            build = "the portable build" if portable else "the Linux build"
            raise ImportError(f"{_aio.__file__} is not {build}")
    except Exception as exc:  # any failure means "skip, say why"
        found.add(Unavailable(family, _describe(exc)))
        return
    own = Discovery()
    _family_asyncfile(own)
    for contender in own.contenders:
        name = contender.name.replace("asyncfile", family, 1)
        found.add(dataclasses.replace(contender, name=name, family=family))
    for missing in own.unavailable:
        name = missing.name.replace("asyncfile", family, 1)
        found.add(Unavailable(name, missing.reason))
    found.versions[family] = f"{own.versions.get('asyncfile', '?')} ({tree})"


FAMILIES: dict[str, Callable[[Discovery], None]] = {
    "sync": _family_sync,
    "thread": _family_thread,
    "asyncfile": _family_asyncfile,
    "caio": lambda found: _family_core(
        found, "caio", {"linux_uring": {"sqpoll": False}}
    ),
    "aiofile": _family_aiofile,
    "aiofiles": _family_aiofiles,
    "anyio": _family_anyio,
    "aiohttp": _family_aiohttp,
    "portable": _family_portable,
    "before": _family_before,
}
"""Each family is listed in a process of its own, so one that crashes on
import costs only its own contenders."""


LOOPS: dict[str, str] = {
    "asyncio": "asyncio's own event loop (asyncio.new_event_loop())",
    "uvloop": "uvloop's event loop (uvloop.new_event_loop())",
}
"""The event loops a contender can run on (``--loops``).  A contender named
``NAME@uvloop`` is ``NAME`` on uvloop; a name without ``@`` runs on asyncio's."""


def split_loop(name: str) -> tuple[str, str]:
    """``asyncfile@uvloop`` -> (``asyncfile``, ``uvloop``); no ``@``: asyncio's."""
    base, _, loop = name.partition("@")
    return base, loop or "asyncio"


def on_loop(name: str, loop: str) -> str:
    """The contender ``name`` on ``loop`` (asyncio's keeps the plain name)."""
    return name if loop == "asyncio" else f"{name}@{loop}"


def new_event_loop(loop: str) -> asyncio.AbstractEventLoop:
    """A new event loop of the kind ``loop`` names (a key of :data:`LOOPS`)."""
    if loop not in LOOPS:
        raise LookupError(f"unknown event loop {loop!r}: one of {', '.join(LOOPS)}")
    if loop == "asyncio":
        return asyncio.new_event_loop()
    new: Callable[[], asyncio.AbstractEventLoop] = importlib.import_module(
        loop
    ).new_event_loop
    return new()


def family_of(name: str) -> str:
    """``caio[linux_aio]`` -> ``caio``; ``asyncfile@uvloop`` -> ``asyncfile``."""
    return split_loop(name)[0].split("[", 1)[0]


def discover(family: str) -> Discovery:
    """Import one family; return what can run and what cannot."""
    found = Discovery()
    FAMILIES[family](found)
    return found
