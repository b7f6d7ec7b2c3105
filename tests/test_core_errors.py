"""The error model: OSError subclasses with errno, on every backend and path."""

from __future__ import annotations

import errno
import os
import pickle
from pathlib import Path
from types import ModuleType

import pytest
from backends import Backend, run_to_completion
from platforms import DIRECTORY_FDS

from asyncfile.core import AIOError, BufferTypeError
from asyncfile.core.errors import error_class, error_from_errno


@pytest.mark.parametrize(
    ("code", "builtin"),
    [
        (errno.ENOENT, FileNotFoundError),
        (errno.EEXIST, FileExistsError),
        (errno.EACCES, PermissionError),
        (errno.EPERM, PermissionError),
        (errno.EISDIR, IsADirectoryError),
        (errno.EAGAIN, BlockingIOError),
        (errno.EINTR, InterruptedError),
        (errno.EBADF, OSError),
        (errno.ENOSPC, OSError),
        (errno.EIO, OSError),
    ],
)
def test_errors_are_the_oserror_python_would_raise(code: int, builtin: type) -> None:
    error = error_from_errno(code, 7)
    assert type(error) is error_class(code)
    assert isinstance(error, builtin)
    assert isinstance(error, AIOError)
    assert isinstance(error, SystemError), "caio code catches SystemError"
    assert error.errno == code
    assert error.strerror == os.strerror(code)
    assert error.filename == 7
    assert f"[Errno {code}]" in str(error)


def test_error_classes_pickle() -> None:
    error = error_from_errno(errno.ENOENT, 3)
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert (clone.errno, clone.filename) == (errno.ENOENT, 3)


def test_errno_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        error_from_errno(0)


async def test_bad_descriptor_fails_with_ebadf(aio: ModuleType, closed_fd: int) -> None:
    async with aio.AsyncioContext() as context:
        for call in (
            lambda: context.read(1, closed_fd, 0),
            lambda: context.write(b"x", closed_fd, 0),
            lambda: context.fsync(closed_fd),
            lambda: context.fdsync(closed_fd),
        ):
            with pytest.raises(AIOError) as caught:
                await call()
            assert caught.value.errno == errno.EBADF
            assert caught.value.filename == closed_fd
            assert isinstance(caught.value, SystemError)


@DIRECTORY_FDS.mark
async def test_reading_a_directory_is_isadirectoryerror(
    aio: ModuleType, tmp_path: Path
) -> None:
    directory = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        async with aio.AsyncioContext() as context:
            with pytest.raises(IsADirectoryError) as caught:
                await context.read(16, directory, 0)
        assert isinstance(caught.value, AIOError)
        assert caught.value.errno == errno.EISDIR
    finally:
        os.close(directory)


async def test_writing_a_read_only_descriptor_is_ebadf(
    aio: ModuleType, tmp_path: Path
) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"data")
    read_only = os.open(path, os.O_RDONLY)
    try:
        async with aio.AsyncioContext() as context:
            with pytest.raises(OSError, match=r"Bad file descriptor") as caught:
                await context.write(b"x", read_only, 0)
        assert caught.value.errno == errno.EBADF
        assert path.read_bytes() == b"data"
    finally:
        os.close(read_only)


def test_get_value_raises_the_completion_error(
    backend: Backend, closed_fd: int
) -> None:
    context = backend.module.Context()
    try:
        operation = backend.module.Operation.read(4, closed_fd, 0)
        run_to_completion(context, operation)
        assert operation.error == errno.EBADF
        with pytest.raises(AIOError) as caught:
            operation.get_value()
        assert caught.value.errno == errno.EBADF
    finally:
        context.close()


def test_callback_receives_negative_errno(backend: Backend, closed_fd: int) -> None:
    results: list[int] = []
    context = backend.module.Context()
    try:
        operation = backend.module.Operation.fsync(closed_fd)
        run_to_completion(context, operation)
        operation.set_callback(results.append)  # spent: never called again
    finally:
        context.close()
    assert operation.result == 0
    assert operation.error == errno.EBADF
    assert results == []


def test_callback_receives_the_result_or_minus_errno(
    backend: Backend, fd: int, closed_fd: int
) -> None:
    results: list[int] = []
    context = backend.module.Context()
    try:
        good = backend.module.Operation.write(b"hello", fd, 0)
        bad = backend.module.Operation.write(b"hello", closed_fd, 0)
        run_to_completion(context, good)
        results_good = good.result
        run_to_completion(context, bad)
    finally:
        context.close()
    assert results_good == 5
    assert bad.error == errno.EBADF
    assert bad.result == 0
    del results


@pytest.mark.parametrize("bad", [["list"], "text", 42, None])
def test_write_rejects_what_is_not_a_buffer(backend: Backend, bad: object) -> None:
    with pytest.raises(BufferTypeError) as caught:
        backend.module.Operation.write(bad, 0, 0)
    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, ValueError), "caio raised ValueError"


@pytest.mark.parametrize("offset", [-2, -(2**40), 2**63, 2**64 - 2, 2**64])
def test_offset_out_of_range_is_valueerror(backend: Backend, offset: int) -> None:
    operation = backend.module.Operation
    for make in (
        lambda: operation.read(1, 0, offset),
        lambda: operation.write(b"x", 0, offset),
        lambda: operation.readinto(bytearray(1), 0, offset),
    ):
        with pytest.raises(ValueError, match="offset"):
            make()


@pytest.mark.parametrize("size", [-1, -4096, 2**63])
def test_size_out_of_range_is_valueerror(backend: Backend, size: int) -> None:
    with pytest.raises(ValueError, match="size"):
        backend.module.Operation.read(size, 0, 0)


def test_negative_descriptor_is_valueerror(backend: Backend) -> None:
    with pytest.raises(ValueError, match="descriptor"):
        backend.module.Operation.read(1, -1, 0)
    with pytest.raises(ValueError, match="descriptor"):
        backend.module.Operation.fsync(-5)


@pytest.mark.parametrize("bad", ["1", 1.5, None])
def test_non_integer_arguments_are_typeerror(backend: Backend, bad: object) -> None:
    with pytest.raises(TypeError):
        backend.module.Operation.read(bad, 0, 0)
    with pytest.raises(TypeError):
        backend.module.Operation.read(1, bad, 0)
    with pytest.raises(TypeError):
        backend.module.Operation.write(b"x", 0, bad)
