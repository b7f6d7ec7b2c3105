"""Every public method of the native types (the contexts, with their
filesystem methods; Operation; the waiter and the call an awaitable method
returns) has a signature that ``inspect.signature`` reads (from
``__text_signature__``), and the parser behind it enforces that signature: one
argument too many, one required argument too few, or a keyword it does not
name raises TypeError."""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Callable
from typing import Any

import pytest
from backends import BACKENDS, Backend

NATIVE = [backend for backend in BACKENDS if backend.native]

#: What each public method takes, as its docstring's signature says.
EXPECTED = {
    "submit": "(*operations)",
    "cancel": "(*operations)",
    "close": "()",
    "bind": "(loop, /)",
    "serves_running_loop": "()",
    "on_ready": "()",
    "aread": "(nbytes, fd, offset=0, /)",
    "read_cached": "(nbytes, fd, offset=0, /)",
    "areadinto": "(buffer, fd, offset=0, /)",
    "awrite": "(buffer, fd, offset=0, /)",
    "afsync": "(fd, /)",
    "afdsync": "(fd, /)",
    "poll": "()",
    "process_events": "(max_requests=512, min_requests=0, timeout=0)",
    "flush": "()",
    "aopenat": "(dir_fd, path, flags, mode, /)",
    "aclose": "(fd, /)",
    "astat": "(dir_fd, path, flags, /)",
    "autimensat": "(dir_fd, path, times, flags, /)",
    "asendfile": "(out_fd, in_fd, offset, count, /)",
}

#: Operation's, as caio names them.
OPERATION_EXPECTED = {
    "read": "(nbytes, fd, offset=0, priority=0)",
    "readinto": "(buffer, fd, offset=0, priority=0)",
    "write": "(payload_bytes, fd, offset=0, priority=0)",
    "fsync": "(fd, priority=0)",
    "fdsync": "(fd, priority=0)",
    "get_value": "()",
    "set_callback": "(callback, /)",
}

#: The waiter's, as asyncio.Future's; the call's, as a coroutine's.
WAITER_EXPECTED = {
    "cancel": "(msg=None)",
    "add_done_callback": "(fn, /, *, context=None)",
    "remove_done_callback": "(fn, /)",
    "result": "()",
}
CALL_EXPECTED = {
    "send": "(value, /)",
    "throw": "(typ, val=None, tb=None, /)",
    "close": "()",
    "despite_cancel": "()",
}


@pytest.fixture(params=NATIVE, ids=[backend.name for backend in NATIVE])
def context_type(request: pytest.FixtureRequest) -> type:
    backend: Backend = request.param
    context: type = backend.module.Context
    return context


def public_methods(context_type: type) -> list[str]:
    return sorted(
        name
        for name in dir(context_type)
        if not name.startswith("_")
        and inspect.ismethoddescriptor(getattr(context_type, name))
    )


def test_every_public_method_has_a_signature(context_type: type) -> None:
    names = public_methods(context_type)
    assert "aread" in names
    assert "submit" in names
    context = context_type(max_requests=2)
    try:
        for name in names:
            signature = inspect.signature(getattr(context, name))
            if name in EXPECTED:
                assert str(signature) == EXPECTED[name], name
    finally:
        context.close()


def test_the_constructor_has_a_signature(context_type: type) -> None:
    signature = inspect.signature(context_type)
    assert "max_requests" in signature.parameters
    assert signature.parameters["max_requests"].default == 32


def assert_parser_enforces(method: Callable[..., Any]) -> None:
    """Too many, too few, and an unknown keyword each raise TypeError."""
    parameters = inspect.signature(method).parameters.values()
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return
    positional = [
        p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    required = [p for p in positional if p.default is p.empty]
    with pytest.raises(TypeError):
        method(*[0] * (len(positional) + 1))
    if required:
        with pytest.raises(TypeError):
            method(*[0] * (len(required) - 1))
    with pytest.raises(TypeError):
        method(*[0] * len(required), no_such_parameter=0)


def public_names(obj: object) -> list[str]:
    return sorted(
        name
        for name in dir(obj)
        if not name.startswith("_") and callable(getattr(obj, name))
    )


def assert_signatures(obj: object, expected: dict[str, str]) -> None:
    names = public_names(obj)
    assert set(expected) <= set(names)
    for name in names:
        method = getattr(obj, name)
        assert str(inspect.signature(method)) == expected.get(
            name, str(inspect.signature(method))
        ), name
        assert_parser_enforces(method)


def test_each_parser_enforces_its_signature(context_type: type) -> None:
    context = context_type(max_requests=2)
    try:
        for name in public_methods(context_type):
            assert_parser_enforces(getattr(context, name))
    finally:
        context.close()


@pytest.fixture
def native_module(native_backend: Backend) -> Any:
    return native_backend.module


def test_operation_signatures(native_module: Any) -> None:
    # An instance: the constructors are class methods, reached through it too.
    assert_signatures(native_module.Operation.fsync(0), OPERATION_EXPECTED)


def test_waiter_and_call_signatures(native_module: Any) -> None:
    async def body() -> None:
        context = native_module.Context(max_requests=2)
        context.bind(asyncio.get_running_loop())
        read_end, write_end = os.pipe()
        call = context.aread(1, read_end, -1)
        try:
            assert_signatures(call, CALL_EXPECTED)
            waiter = call.send(None)
            assert waiter is not None  # an empty pipe: the read waits
            assert_signatures(waiter, WAITER_EXPECTED)
        finally:
            call.close()
            context.close()
            os.close(read_end)
            os.close(write_end)

    asyncio.run(body())
