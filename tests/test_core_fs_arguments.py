"""The native contexts' filesystem methods reject bad arguments with the
errors PyArg_ParseTuple gave them (type and message, word for word), accept
what it accepted, and take no keywords: their parsers are hand-written in
Argument Clinic's shape, and this file pins that nothing changed on the way."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from backends import Backend

INT_BEYOND = 2**31  # one past a C int
I64_BEYOND = 2**63  # one past an int64_t
U64_BEYOND = 2**64  # one past a uint64_t

STR_NOT_INT = "'str' object cannot be interpreted as an integer"
FLOAT_NOT_INT = "'float' object cannot be interpreted as an integer"
ABOVE_INT = "signed integer is greater than maximum"
BELOW_INT = "signed integer is less than minimum"
ABOVE_LONG = "Python int too large to convert to C long"
NEGATIVE_FD = "file descriptor cannot be negative: -1"
NEGATIVE_SIZE = "size must be in [0, 2**63), got -1"
#: What getargs calls the "(...)" unit it unpacks: CPython 3.14 says tuple.
GETARGS_UNIT = "tuple" if sys.version_info >= (3, 14) else "sequence"


def takes(count: int, given: int) -> str:
    """The wrong-count message; {name} is the method's."""
    return f"{{name}}() takes exactly {count} arguments ({given} given)"


def not_bytes(position: int, type_name: str) -> str:
    return f"{{name}}() argument {position} must be bytes, not {type_name}"


#: (method, arguments, the error, its message)
BAD_CALLS: list[tuple[str, tuple[Any, ...], type[BaseException], str]] = [
    ("aopenat", (), TypeError, takes(4, 0)),
    ("aopenat", (0, b"x", 0), TypeError, takes(4, 3)),
    ("aopenat", (0, b"x", 0, 0, 0), TypeError, takes(4, 5)),
    ("aopenat", ("0", b"x", 0, 0), TypeError, STR_NOT_INT),
    ("aopenat", (1.5, b"x", 0, 0), TypeError, FLOAT_NOT_INT),
    ("aopenat", (INT_BEYOND, b"x", 0, 0), OverflowError, ABOVE_INT),
    ("aopenat", (-INT_BEYOND - 1, b"x", 0, 0), OverflowError, BELOW_INT),
    ("aopenat", (U64_BEYOND, b"x", 0, 0), OverflowError, ABOVE_LONG),
    ("aopenat", (0, "x", 0, 0), TypeError, not_bytes(2, "str")),
    ("aopenat", (0, bytearray(b"x"), 0, 0), TypeError, not_bytes(2, "bytearray")),
    ("aopenat", (0, None, 0, 0), TypeError, not_bytes(2, "None")),
    ("aopenat", (0, b"x", "0", 0), TypeError, STR_NOT_INT),
    ("aopenat", (0, b"x", INT_BEYOND, 0), OverflowError, ABOVE_INT),
    ("aopenat", (0, b"x", 0, "0"), TypeError, STR_NOT_INT),
    ("aopenat", (0, b"x", 0, 1.0), TypeError, FLOAT_NOT_INT),
    ("aclose", ("3",), TypeError, STR_NOT_INT),
    ("aclose", (-1,), ValueError, NEGATIVE_FD),
    (
        "aclose",
        (INT_BEYOND,),
        OverflowError,
        "file descriptor out of range: 2147483648",
    ),
    ("aclose", (U64_BEYOND,), OverflowError, ABOVE_LONG),
    ("astat", (0, b"x"), TypeError, takes(3, 2)),
    ("astat", (0, "x", 0), TypeError, "path must be bytes or None, not str"),
    ("astat", (0, 1, 0), TypeError, "path must be bytes or None, not int"),
    ("astat", ("0", b"x", 0), TypeError, STR_NOT_INT),
    ("astat", (0, b"x", "0"), TypeError, STR_NOT_INT),
    ("astat", (0, b"x", INT_BEYOND), OverflowError, ABOVE_INT),
    ("astat", (0, b"x", 0, 0), TypeError, takes(3, 4)),
    ("arenameat", (0, b"x", 0), TypeError, takes(4, 3)),
    ("arenameat", (0, b"x", 0, b"y", 0), TypeError, takes(4, 5)),
    ("arenameat", (0, "x", 0, b"y"), TypeError, not_bytes(2, "str")),
    ("arenameat", (0, b"x", 0, "y"), TypeError, not_bytes(4, "str")),
    ("arenameat", (0, b"x", "0", b"y"), TypeError, STR_NOT_INT),
    ("arenameat", (INT_BEYOND, b"x", 0, b"y"), OverflowError, ABOVE_INT),
    ("alinkat", (0, b"x", 0, b"y"), TypeError, takes(5, 4)),
    ("alinkat", (0, b"x", 0, b"y", 0, 0), TypeError, takes(5, 6)),
    ("alinkat", (0, b"x", 0, b"y", "0"), TypeError, STR_NOT_INT),
    ("alinkat", (0, None, 0, b"y", 0), TypeError, not_bytes(2, "None")),
    ("asymlinkat", (b"t", 0), TypeError, takes(3, 2)),
    ("asymlinkat", ("t", 0, b"x"), TypeError, not_bytes(1, "str")),
    ("asymlinkat", (b"t", "0", b"x"), TypeError, STR_NOT_INT),
    ("asymlinkat", (b"t", 0, None), TypeError, not_bytes(3, "None")),
    ("asymlinkat", (b"t", 0, b"x", 0), TypeError, takes(3, 4)),
    ("aunlinkat", (0, b"x"), TypeError, takes(3, 2)),
    ("aunlinkat", (0, "x", 0), TypeError, not_bytes(2, "str")),
    ("aunlinkat", (0, b"x", 1.5), TypeError, FLOAT_NOT_INT),
    ("amkdirat", (0, b"x"), TypeError, takes(3, 2)),
    ("amkdirat", (0, b"x", "7"), TypeError, STR_NOT_INT),
    ("amkdirat", (0, b"x", 1.5), TypeError, FLOAT_NOT_INT),
    ("amkdirat", (0, None, 511), TypeError, not_bytes(2, "None")),
    ("aftruncate", (0,), TypeError, takes(2, 1)),
    ("aftruncate", (-1, 0), ValueError, NEGATIVE_FD),
    ("aftruncate", (0, -1), ValueError, NEGATIVE_SIZE),
    (
        "aftruncate",
        (0, I64_BEYOND),
        ValueError,
        "size must be in [0, 2**63), got 9223372036854775808",
    ),
    ("aftruncate", (0, "1"), TypeError, STR_NOT_INT),
    ("aftruncate", ("0", 1), TypeError, STR_NOT_INT),
    ("aftruncate", (0, 1, 2), TypeError, takes(2, 3)),
    ("atruncate", (b"x",), TypeError, takes(2, 1)),
    ("atruncate", ("x", 0), TypeError, not_bytes(1, "str")),
    ("atruncate", (b"x", -1), ValueError, NEGATIVE_SIZE),
    ("atruncate", (b"x", 1.0), TypeError, FLOAT_NOT_INT),
    ("afallocate", (0, 0), TypeError, takes(3, 2)),
    ("afallocate", (0, -1, 1), ValueError, NEGATIVE_SIZE),
    ("afallocate", (0, 0, -1), ValueError, NEGATIVE_SIZE),
    ("afallocate", (-1, 0, 1), ValueError, NEGATIVE_FD),
    (
        "afallocate",
        (0, 0, U64_BEYOND),
        ValueError,
        "size must be in [0, 2**63), got 18446744073709551616",
    ),
    ("areadlinkat", (0,), TypeError, takes(2, 1)),
    ("areadlinkat", (0, "x"), TypeError, not_bytes(2, "str")),
    ("areadlinkat", (0, b"x", 0), TypeError, takes(2, 3)),
    ("areadlinkat", ("0", b"x"), TypeError, STR_NOT_INT),
    ("afaccessat", (0, b"x", 0), TypeError, takes(4, 3)),
    ("afaccessat", (0, "x", 0, 0), TypeError, not_bytes(2, "str")),
    ("afaccessat", (0, b"x", "0", 0), TypeError, STR_NOT_INT),
    ("afaccessat", (0, b"x", 0, "0"), TypeError, STR_NOT_INT),
    ("afaccessat", (0, b"x", INT_BEYOND, 0), OverflowError, ABOVE_INT),
    ("afchmodat", (0, b"x", 0), TypeError, takes(4, 3)),
    ("afchmodat", (0, "x", 0, 0), TypeError, "path must be bytes or None, not str"),
    ("afchmodat", (0, 1, 0, 0), TypeError, "path must be bytes or None, not int"),
    ("afchmodat", (0, b"x", "0", 0), TypeError, STR_NOT_INT),
    ("afchmodat", (0, b"x", 0, "0"), TypeError, STR_NOT_INT),
    ("afchmodat", ("0", None, 0, 0), TypeError, STR_NOT_INT),
    ("autimensat", (0, b"x", None), TypeError, takes(4, 3)),
    ("autimensat", (0, "x", None, 0), TypeError, "path must be bytes or None, not str"),
    ("autimensat", (0, b"x", None, "0"), TypeError, STR_NOT_INT),
    ("autimensat", (0, b"x", ((0, 0),), 0), TypeError, takes(2, 1)),
    ("autimensat", (0, b"x", ((0, 0), (0, 0), (0, 0)), 0), TypeError, takes(2, 3)),
    (
        "autimensat",
        (0, b"x", ((0,), (0, 0)), 0),
        TypeError,
        f"autimensat() argument 1 must be {GETARGS_UNIT} of length 2, not 1",
    ),
    (
        "autimensat",
        (0, b"x", ((0, 0), 5), 0),
        TypeError,
        f"autimensat() argument 2 must be 2-item {GETARGS_UNIT}, not int",
    ),
    ("autimensat", (0, b"x", (("0", 0), (0, 0)), 0), TypeError, STR_NOT_INT),
    ("autimensat", (0, b"x", ((0, 1.5), (0, 0)), 0), TypeError, FLOAT_NOT_INT),
    (
        "autimensat",
        (0, b"x", ((I64_BEYOND, 0), (0, 0)), 0),
        OverflowError,
        "int too big to convert",
    ),
    ("autimensat", (0, b"x", ((0, I64_BEYOND), (0, 0)), 0), OverflowError, ABOVE_LONG),
    ("astatvfs", (0,), TypeError, takes(2, 1)),
    ("astatvfs", (0, "x"), TypeError, "path must be bytes or None, not str"),
    ("astatvfs", ("0", None), TypeError, STR_NOT_INT),
    ("astatvfs", (0, None, 0), TypeError, takes(2, 3)),
    ("agetdents", (0,), TypeError, takes(2, 1)),
    ("agetdents", (-1, True), ValueError, NEGATIVE_FD),
    ("agetdents", ("0", True), TypeError, STR_NOT_INT),
    ("agetdents", (0, True, 0), TypeError, takes(2, 3)),
    ("asendfile", (0, 0, None), TypeError, takes(4, 3)),
    ("asendfile", (-1, 0, None, 1), ValueError, NEGATIVE_FD),
    ("asendfile", (0, -1, None, 1), ValueError, NEGATIVE_FD),
    ("asendfile", (0, 0, -1, 1), ValueError, NEGATIVE_SIZE),
    ("asendfile", (0, 0, "0", 1), TypeError, STR_NOT_INT),
    ("asendfile", (0, 0, None, -1), ValueError, NEGATIVE_SIZE),
    ("asendfile", (0, 0, None, 1, 0), TypeError, takes(4, 5)),
]

#: aopen_file parses as aopenat does.
BAD_CALLS += [
    ("aopen_file", args, error, message)
    for name, args, error, message in BAD_CALLS
    if name == "aopenat"
]

#: Arguments each filesystem method accepts (the call is never awaited).
GOOD_CALLS: dict[str, tuple[Any, ...]] = {
    "aopenat": (0, b"x", 0, 0),
    "aopen_file": (0, b"x", 0, 0),
    "aclose": (0,),
    "astat": (0, None, 0),
    "arenameat": (0, b"x", 0, b"y"),
    "alinkat": (0, b"x", 0, b"y", 0),
    "asymlinkat": (b"x", 0, b"y"),
    "aunlinkat": (0, b"x", 0),
    "amkdirat": (0, b"x", 0),
    "aftruncate": (0, 0),
    "atruncate": (b"x", 0),
    "afallocate": (0, 0, 1),
    "areadlinkat": (0, b"x"),
    "afaccessat": (0, b"x", 0, 0),
    "afchmodat": (0, None, 0, 0),
    "autimensat": (0, None, None, 0),
    "astatvfs": (0, None),
    "agetdents": (0, True),
    "asendfile": (1, 0, None, 1),
}


@pytest.fixture
def context(native_backend: Backend) -> Iterator[Any]:
    context = native_backend.module.Context(max_requests=2)
    yield context
    context.close()


def test_bad_arguments_raise_what_getargs_raised(context: Any) -> None:
    for name, args, error, message in BAD_CALLS:
        with pytest.raises(error) as raised:
            getattr(context, name)(*args)
        assert str(raised.value) == message.format(name=name), (name, args)
        assert type(raised.value) is error, (name, args)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        # "I": a mode is masked to 32 bits, never refused.
        ("aopenat", (0, b"x", 0, U64_BEYOND)),
        ("aopenat", (0, b"x", 0, -1)),
        ("amkdirat", (0, b"x", -1)),
        ("afchmodat", (0, None, U64_BEYOND + 0o644, 0)),
        # "(Ll)": each pair of times is any sequence of two.
        ("autimensat", (0, b"x", ((0, 0), [0, 0]), 0)),
        ("autimensat", (0, None, None, 0)),
        ("astat", (0, None, 0)),
        ("astatvfs", (0, None)),
        ("asendfile", (1, 0, None, U64_BEYOND // 4)),
        # "p": any object's truth.
        ("agetdents", (0, [])),
        ("agetdents", (0, "yes")),
    ],
)
def test_what_getargs_accepted_stays_accepted(
    context: Any, name: str, args: tuple[Any, ...]
) -> None:
    call = getattr(context, name)(*args)
    call.close()  # never awaited: nothing ran


def test_every_call_is_named_for_its_method(context: Any) -> None:
    """A call's name (its repr, and the warning when it is never awaited)
    is its method's, for every method the context has."""
    calls = {**GOOD_CALLS, "aread": (1, 0), "areadinto": (bytearray(1), 0)}
    calls.update(awrite=(b"x", 0), afsync=(0,), afdsync=(0,))
    assert {name for name in dir(context) if name.startswith("a")} == set(calls)
    for name, args in calls.items():
        call = getattr(context, name)(*args)
        try:
            assert call.__name__ == name
            assert f".{name} " in repr(call)
        finally:
            call.close()


class FalseHood:
    def __bool__(self) -> bool:
        raise ZeroDivisionError("no truth")


def test_an_error_from_truth_testing_as_str_propagates(context: Any) -> None:
    with pytest.raises(ZeroDivisionError, match="no truth"):
        context.agetdents(0, FalseHood())


@pytest.mark.parametrize("name", ["aopenat", "astat", "aclose", "autimensat"])
def test_no_method_takes_keywords(context: Any, name: str) -> None:
    with pytest.raises(TypeError, match=rf"{name}\(\) takes no keyword arguments"):
        getattr(context, name)(fd=0)


@pytest.mark.parametrize("times", [[(0, 0), (0, 0)], 5, "ab"])
def test_autimensat_times_not_a_tuple_is_a_type_error_not_system_error(
    context: Any, times: object
) -> None:
    with pytest.raises(TypeError) as raised:
        context.autimensat(0, b"x", times, 0)
    assert str(raised.value) == (
        f"autimensat() argument 3 must be tuple or None, not {type(times).__name__}"
    )
