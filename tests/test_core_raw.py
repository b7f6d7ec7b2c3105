"""caio's raw Context/Operation API: what every backend promises the same way."""

from __future__ import annotations

import time

import pytest
from backends import Backend, run_to_completion

from asyncfile.core import QueueFullError
from asyncfile.core._positional import pread, pwrite


def test_a_full_queue_accepts_a_prefix_and_says_so(backend: Backend, fd: int) -> None:
    context = backend.module.Context(max_requests=2)
    try:
        operations = [
            backend.module.Operation.write(bytes([65 + i]), fd, i) for i in range(5)
        ]
        with pytest.raises(QueueFullError) as caught:
            context.submit(*operations)
        # caio's backends disagree on the type; this one is each of theirs.
        assert isinstance(caught.value, RuntimeError)
        assert isinstance(caught.value, OverflowError)
        # submit() takes only operations it has not taken: 0 for the accepted.
        # (More than two fit when the first finished during the call.)
        for operation in operations[:2]:
            _wait_until_done(backend, context, operation)
        again = []
        for operation in operations:
            again.append(context.submit(operation))
            _wait_until_done(backend, context, operation)
            assert operation.get_value() == 1
        accepted = again.index(1)
        assert accepted >= 2
        assert again == [0] * accepted + [1] * (5 - accepted)
        assert pread(fd, 5, 0) == b"ABCDE"
    finally:
        context.close()


def _wait_until_done(backend: Backend, context: object, operation: object) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            operation.get_value()  # type: ignore[attr-defined]
            return
        except RuntimeError:
            pass
        assert time.monotonic() < deadline, "the operation never completed"
        if backend.kernel_polled:
            context.process_events(timeout=0.01)  # type: ignore[attr-defined]
        else:
            time.sleep(0.001)


def test_submit_and_cancel_reject_foreign_objects(backend: Backend) -> None:
    context = backend.module.Context()
    try:
        for method in (context.submit, context.cancel):
            with pytest.raises(TypeError, match="Operation expected"):
                method(object())
    finally:
        context.close()


def test_a_rejected_batch_leaves_its_operations_new(backend: Backend, fd: int) -> None:
    context = backend.module.Context()
    try:
        operation = backend.module.Operation.write(b"x", fd, 0)
        with pytest.raises(TypeError):
            context.submit(operation, object())
        assert context.submit(operation) == 1
        _wait_until_done(backend, context, operation)
        assert operation.get_value() == 1
    finally:
        context.close()


def test_cancel_through_another_context_is_rejected(
    native_backend: Backend, fd: int
) -> None:
    backend = native_backend
    first = backend.module.Context()
    second = backend.module.Context()
    try:
        operation = backend.module.Operation.write(b"x" * 4096, fd, 0)
        assert first.submit(operation) == 1
        with pytest.raises(ValueError, match="another context"):
            second.cancel(operation)
        _wait_until_done(backend, first, operation)
        assert operation.get_value() == 4096
    finally:
        first.close()
        second.close()


def test_process_events_refuses_min_above_max(polled_backend: Backend) -> None:
    context = polled_backend.module.Context()
    try:
        with pytest.raises(ValueError, match="min_requests"):
            context.process_events(max_requests=1, min_requests=5)
    finally:
        context.close()


def test_a_short_read_payload_is_zero_filled(backend: Backend, fd: int) -> None:
    pwrite(fd, b"AB", 0)
    for _ in range(16):  # leave non-zero garbage where the buffer may land
        bytearray(b"\xff" * 256)
    context = backend.module.Context()
    try:
        operation = backend.module.Operation.read(256, fd, 0)
        run_to_completion(context, operation)
        assert operation.get_value() == b"AB"
        assert operation.result == 2
        if backend.native:  # python_aio's payload is what was read
            assert bytes(operation.payload) == b"AB" + bytes(254)
        else:
            assert operation.payload == b"AB"
    finally:
        context.close()


def test_a_read_too_large_for_memory_fails_at_construction(
    native_backend: Backend,
) -> None:
    with pytest.raises(MemoryError):
        native_backend.module.Operation.read(2**62, 0, 0)
