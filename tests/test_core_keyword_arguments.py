"""The native types' methods that take keywords (caio's Operation
constructors, the contexts' constructors and process_events, the waiter's
cancel) reject bad calls with the errors PyArg_ParseTupleAndKeywords gave
them, word for word: their parsers are hand-written in Argument Clinic's
shape, and this file pins that nothing changed on the way."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from backends import Backend

STR_NOT_INT = "'str' object cannot be interpreted as an integer"
FLOAT_NOT_INT = "'float' object cannot be interpreted as an integer"

#: (constructor, positional, keywords, the error, its message)
BAD_OPERATIONS: list[tuple[str, tuple[Any, ...], dict[str, Any], type, str]] = [
    ("read", (), {}, TypeError, "read() missing required argument 'nbytes' (pos 1)"),
    ("read", (1,), {}, TypeError, "read() missing required argument 'fd' (pos 2)"),
    (
        "read",
        (1, 0, 0, 0, 0),
        {},
        TypeError,
        "read() takes at most 4 arguments (5 given)",
    ),
    (
        "read",
        (),
        dict(nbytes=1, fd=0, offset=0, priority=0, x=1),
        TypeError,
        "read() takes at most 4 keyword arguments (5 given)",
    ),
    (
        "read",
        (1, 0),
        dict(offset=0, priority=0, x=1),
        TypeError,
        "read() takes at most 4 arguments (5 given)",
    ),
    (
        "read",
        (1, 0),
        {"bogus": 1},
        TypeError,
        "'bogus' is an invalid keyword argument for read()",
    ),
    (
        "read",
        (1,),
        {"nbytes": 1, "fd": 0},
        TypeError,
        "argument for read() given by name ('nbytes') and position (1)",
    ),
    (
        "read",
        (),
        {"fd": 0},
        TypeError,
        "read() missing required argument 'nbytes' (pos 1)",
    ),
    (
        "read",
        (),
        {"nbytes": 1},
        TypeError,
        "read() missing required argument 'fd' (pos 2)",
    ),
    ("read", (1, 0), {"priority": "x"}, TypeError, STR_NOT_INT),
    (
        "read",
        (1, 0),
        {"priority": 2**31},
        OverflowError,
        "signed integer is greater than maximum",
    ),
    (
        "read",
        (1, 0),
        {"offset": -2},
        ValueError,
        "offset must be in [0, 2**63) or -1 (the current position), got -2",
    ),
    ("read", (-1, 0), {}, ValueError, "size must be in [0, 2**63), got -1"),
    ("read", (1, -1), {}, ValueError, "file descriptor cannot be negative: -1"),
    ("read", (1, 0, 0, 1.5), {}, TypeError, FLOAT_NOT_INT),
    (
        "write",
        (),
        {},
        TypeError,
        "write() missing required argument 'payload_bytes' (pos 1)",
    ),
    ("write", (b"x",), {}, TypeError, "write() missing required argument 'fd' (pos 2)"),
    (
        "write",
        (b"x", 0, 0, 0, 0),
        {},
        TypeError,
        "write() takes at most 4 arguments (5 given)",
    ),
    (
        "write",
        (b"x",),
        {"payload": b"x", "fd": 0},
        TypeError,
        "'payload' is an invalid keyword argument for write()",
    ),
    (
        "readinto",
        (bytearray(1),),
        {},
        TypeError,
        "readinto() missing required argument 'fd' (pos 2)",
    ),
    ("fsync", (), {}, TypeError, "fsync() missing required argument 'fd' (pos 1)"),
    ("fsync", (0, 0, 0), {}, TypeError, "fsync() takes at most 2 arguments (3 given)"),
    ("fsync", (), {"fd": -1}, ValueError, "file descriptor cannot be negative: -1"),
    (
        "fsync",
        (0,),
        {"prio": 1},
        TypeError,
        "'prio' is an invalid keyword argument for fsync()",
    ),
    (
        "fsync",
        (),
        {"priority": 1},
        TypeError,
        "fsync() missing required argument 'fd' (pos 1)",
    ),
    ("fdsync", ("0",), {}, TypeError, STR_NOT_INT),
    (
        "fdsync",
        (0,),
        {"fd": 0},
        TypeError,
        "argument for fdsync() given by name ('fd') and position (1)",
    ),
]


def test_operation_constructors_raise_what_getargs_raised(
    native_backend: Backend,
) -> None:
    operation = native_backend.module.Operation
    for name, args, kwargs, error, message in BAD_OPERATIONS:
        with pytest.raises(error) as raised:
            getattr(operation, name)(*args, **kwargs)
        assert type(raised.value) is error, (name, args, kwargs)
        assert str(raised.value) == message, (name, args, kwargs)


def test_operation_constructors_take_every_parameter_by_keyword(
    native_backend: Backend,
) -> None:
    operation = native_backend.module.Operation
    read = operation.read(nbytes=3, fd=0, offset=5, priority=1)
    assert (read.nbytes, read.fileno, read.offset) == (3, 0, 5)
    write = operation.write(payload_bytes=b"ab", fd=1, offset=-1, priority=0)
    assert (write.nbytes, write.fileno, write.offset) == (2, 1, -1)
    readinto = operation.readinto(buffer=bytearray(4), fd=2)
    assert (readinto.nbytes, readinto.fileno) == (4, 2)
    assert operation.fsync(fd=3, priority=2).fileno == 3
    assert operation.fdsync(4).fileno == 4


def test_context_constructors_raise_what_getargs_raised(
    native_backend: Backend,
) -> None:
    context_type = native_backend.module.Context
    most = 3 if native_backend.name == "uring" else 2
    cases: list[tuple[tuple[Any, ...], dict[str, Any], type, str]] = [
        (
            (),
            {"bogus": 1},
            TypeError,
            "'bogus' is an invalid keyword argument for Context()",
        ),
        (
            (1, 0, 64, 1),
            {},
            TypeError,
            f"Context() takes at most {most} arguments (4 given)",
        ),
        (("x",), {}, TypeError, STR_NOT_INT),
        (
            (0,),
            {},
            ValueError,
            "max_requests and pool_size must be positive, got 0, 64",
        ),
        (
            (),
            {"max_requests": 2**31},
            OverflowError,
            "signed integer is greater than maximum",
        ),
        (
            (1,),
            {"max_requests": 1},
            TypeError,
            "argument for Context() given by name ('max_requests') and position (1)",
        ),
        (
            (),
            {"pool_size": 0},
            ValueError,
            "max_requests and pool_size must be positive, got 32, 0",
        ),
    ]
    if native_backend.name != "uring":
        cases.append(
            (
                (),
                {"sqpoll": 1},
                TypeError,
                "'sqpoll' is an invalid keyword argument for Context()",
            )
        )
    for args, kwargs, error, message in cases:
        with pytest.raises(error) as raised:
            context_type(*args, **kwargs)
        assert type(raised.value) is error, (args, kwargs)
        assert str(raised.value) == message, (args, kwargs)
    context_type(1, pool_size=1).close()


def test_process_events_raises_what_getargs_raised(polled_backend: Backend) -> None:
    context = polled_backend.module.Context(max_requests=2)
    cases: list[tuple[tuple[Any, ...], dict[str, Any], type, str]] = [
        (
            (1, 2, 3, 4),
            {},
            TypeError,
            "process_events() takes at most 3 arguments (4 given)",
        ),
        (
            (),
            {"bogus": 1},
            TypeError,
            "'bogus' is an invalid keyword argument for process_events()",
        ),
        (("x",), {}, TypeError, STR_NOT_INT),
        ((0, 1), {}, ValueError, "min_requests (1) cannot exceed max_requests (0)"),
        (
            (1,),
            {"max_requests": 1},
            TypeError,
            "argument for process_events() given by name ('max_requests') "
            "and position (1)",
        ),
        ((), {"timeout": "x"}, TypeError, "must be real number, not str"),
    ]
    try:
        for args, kwargs, error, message in cases:
            with pytest.raises(error) as raised:
                context.process_events(*args, **kwargs)
            assert str(raised.value) == message, (args, kwargs)
        assert context.process_events(max_requests=1, min_requests=0, timeout=0) == 0
    finally:
        context.close()


def test_waiter_cancel_takes_msg_by_position_or_keyword(
    native_backend: Backend,
) -> None:
    async def body() -> None:
        context = native_backend.module.Context(max_requests=2)
        context.bind(asyncio.get_running_loop())
        read_end, write_end = os.pipe()
        call = context.aread(1, read_end, -1)
        try:
            waiter = call.send(None)
            with pytest.raises(
                TypeError, match=r"^cancel\(\) takes at most 1 argument \(2 given\)$"
            ):
                waiter.cancel(1, 2)
            with pytest.raises(
                TypeError,
                match=r"^'message' is an invalid keyword argument for cancel\(\)$",
            ):
                waiter.cancel(message="m")
            assert waiter.cancel(msg="why") is True
            assert waiter.cancelled()
        finally:
            call.close()
            context.close()
            os.close(read_end)
            os.close(write_end)

    asyncio.run(body())
