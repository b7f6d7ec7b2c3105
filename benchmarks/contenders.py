"""Contenders: named ways of doing a case's I/O, discovered at run time.

:func:`discover` imports each family (``sync``, ``asyncfile``, ``caio``) and
returns the contenders it can build, plus the names it cannot with the reason
(import error, backend missing). It never raises for a missing or broken peer.

A contender's ``open()`` is an async context manager entered on the running
loop of the measured process; it yields the handle its ``api`` defines (see
:mod:`benchmarks.cases`).

To add a family (aiofile, aiofiles, anyio for file-level cases): write a
``_family_<name>(found)`` that imports the peer inside a ``try`` and adds a
``Contender`` per configuration, whose ``apis`` name the case interfaces it
serves (or an ``Unavailable`` with the reason), and add it to ``FAMILIES``.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from benchmarks.cases import CoreHandle

logger = logging.getLogger(__name__)

BACKENDS = ("linux_uring", "linux_aio", "thread_aio", "python_aio")
"""caio's backend names; one missing from ``variants_asyncio`` is reported."""

Opener = Callable[[], AbstractAsyncContextManager[Any]]


@dataclass(frozen=True)
class Contender:
    """A runnable contender; ``detail`` says what it resolves to."""

    name: str
    family: str
    apis: frozenset[str]
    open: Opener = field(repr=False)
    detail: str = ""


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
    """A contender over a caio-style ``AsyncioContext`` class."""

    @contextlib.asynccontextmanager
    async def open_context() -> AsyncIterator[CoreHandle]:
        async with context_class(**kwargs) as ctx:
            yield CoreHandle(read=ctx.read)

    return Contender(name, family, frozenset({"core"}), open_context, detail)


def _family_sync(found: Discovery) -> None:
    @contextlib.asynccontextmanager
    async def open_pread() -> AsyncIterator[CoreHandle]:
        yield CoreHandle(blocking=os.pread)

    detail = "os.pread on the loop thread (blocks the loop)"
    found.add(Contender("sync", "sync", frozenset({"core"}), open_pread, detail))


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


FAMILIES: dict[str, Callable[[Discovery], None]] = {
    "sync": _family_sync,
    "asyncfile": lambda found: _family_core(found, "asyncfile.core", {}),
    "caio": lambda found: _family_core(
        found, "caio", {"linux_uring": {"sqpoll": False}}
    ),
}
"""Each family is listed in a process of its own, so one that crashes on
import costs only its own contenders."""


def family_of(name: str) -> str:
    """``caio[linux_aio]`` -> ``caio``."""
    return name.split("[", 1)[0]


def discover(family: str) -> Discovery:
    """Import one family; return what can run and what cannot."""
    found = Discovery()
    FAMILIES[family](found)
    return found
