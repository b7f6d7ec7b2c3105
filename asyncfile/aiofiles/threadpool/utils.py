"""aiofiles's class decorators that give a wrapper its methods.

Each generated method serves both kinds of wrapped file (see
:mod:`asyncfile.aiofiles.base`): on an asyncfile object it calls the
method of the same name (awaiting it where asyncfile's is a coroutine); on a
blocking file it runs the call in the
executor (``delegate``) or directly (``proxy``), as aiofiles does.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from ...file import COROUTINES
from ..base import detach_native, is_native

__all__ = (
    "cond_delegate_to_executor",
    "delegate_to_executor",
    "proxy_method_directly",
    "proxy_property_directly",
)

C = TypeVar("C", bound=type)


def delegate_to_executor(*attrs: str) -> Callable[[C], C]:
    """Give the class coroutine methods named ``attrs``."""

    def cls_builder(cls: C) -> C:
        for attr_name in attrs:
            setattr(cls, attr_name, _make_delegate_method(attr_name))
        return cls

    return cls_builder


def proxy_method_directly(*attrs: str) -> Callable[[C], C]:
    """Give the class plain methods named ``attrs``."""

    def cls_builder(cls: C) -> C:
        for attr_name in attrs:
            setattr(cls, attr_name, _make_proxy_method(attr_name))
        return cls

    return cls_builder


def proxy_property_directly(*attrs: str) -> Callable[[C], C]:
    """Give the class read-only properties named ``attrs``."""

    def cls_builder(cls: C) -> C:
        for attr_name in attrs:
            setattr(cls, attr_name, _make_proxy_property(attr_name))
        return cls

    return cls_builder


def cond_delegate_to_executor(*attrs: str) -> Callable[[C], C]:
    """For spooled temporary files: coroutine methods that use the executor
    only once the file has rolled over to disk."""

    def cls_builder(cls: C) -> C:
        for attr_name in attrs:
            setattr(cls, attr_name, _make_cond_delegate_method(attr_name))
        return cls

    return cls_builder


def _make_delegate_method(attr_name: str) -> Callable[..., Any]:
    # io's names: asyncfile's file objects say which are coroutines; other
    # names (a temporary file's or directory's) are looked at when called.
    awaited = attr_name in COROUTINES

    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        file = self._file
        if is_native(file):
            result = getattr(file, attr_name)(*args, **kwargs)
            if awaited or inspect.isawaitable(result):
                return await result
            return result
        call = functools.partial(getattr(file, attr_name), *args, **kwargs)
        return await self._loop.run_in_executor(self._executor, call)

    method.__name__ = method.__qualname__ = attr_name
    method.__doc__ = (
        f"The file's ``{attr_name}()``, awaited: on the core for an asyncfile "
        "file, in the executor for a blocking one."
    )
    return method


def _make_proxy_method(attr_name: str) -> Callable[..., Any]:
    if attr_name == "detach":

        def detach(self: Any) -> Any:
            """The file's ``detach()``, plain: io's blocking object for the
            layer below (see :func:`asyncfile.aiofiles.base.detach_native`)."""
            file = self._file
            return detach_native(file) if is_native(file) else file.detach()

        return detach

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._file, attr_name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = attr_name
    method.__doc__ = f"The file's ``{attr_name}()``, plain."
    return method


def _make_proxy_property(attr_name: str) -> property:
    def proxy_property(self: Any) -> Any:
        return getattr(self._file, attr_name)

    return property(proxy_property, doc=f"The file's ``{attr_name}``.")


def _make_cond_delegate_method(attr_name: str) -> Callable[..., Any]:
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        file = self._file
        if is_native(file):
            result = getattr(file, attr_name)(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result
        if file._rolled:
            call = functools.partial(getattr(self._file, attr_name), *args, **kwargs)
            return await self._loop.run_in_executor(self._executor, call)
        return getattr(self._file, attr_name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = attr_name
    method.__doc__ = (
        f"The file's ``{attr_name}()``, awaited: in the executor once the file "
        "has rolled over to disk, at once while it is in memory."
    )
    return method
