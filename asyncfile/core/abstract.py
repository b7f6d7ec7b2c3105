"""The interface every backend implements: caio 0.12's, plus ``readinto``."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Buffer, Self

__all__ = ("AbstractContext", "AbstractOperation")


class AbstractContext(abc.ABC):
    """Runs operations; completions are reported through each one's callback."""

    @property
    @abc.abstractmethod
    def max_requests(self) -> int:
        """How many operations may be in flight at once."""

    @abc.abstractmethod
    def submit(self, *aio_operations: AbstractOperation) -> int:
        """Start the operations; return how many were accepted.

        An operation already in flight is not accepted twice.
        """

    @abc.abstractmethod
    def cancel(self, *aio_operations: AbstractOperation) -> int:
        """Cancel operations that have not started; return how many were.

        A cancelled operation completes with ``ECANCELED``.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release the context's resources; later submissions raise."""


class AbstractOperation(abc.ABC):
    """One positional read, write or sync on a file descriptor."""

    __slots__ = ()

    @classmethod
    @abc.abstractmethod
    def read(cls, nbytes: int, fd: int, offset: int = 0, priority: int = 0) -> Self:
        """Read up to ``nbytes`` at ``offset``; the value is the bytes read."""

    @classmethod
    @abc.abstractmethod
    def readinto(
        cls, buffer: Buffer, fd: int, offset: int = 0, priority: int = 0
    ) -> Self:
        """Read into ``buffer`` at ``offset``; the value is the count read."""

    @classmethod
    @abc.abstractmethod
    def write(
        cls, payload_bytes: Buffer, fd: int, offset: int = 0, priority: int = 0
    ) -> Self:
        """Write a contiguous buffer at ``offset``; the value is the count written."""

    @classmethod
    @abc.abstractmethod
    def fsync(cls, fd: int, priority: int = 0) -> Self:
        """Flush the file's data and metadata to the device."""

    @classmethod
    @abc.abstractmethod
    def fdsync(cls, fd: int, priority: int = 0) -> Self:
        """Flush the file's data (and the metadata needed to read it back)."""

    @abc.abstractmethod
    def get_value(self) -> bytes | int | None:
        """The result: bytes for a read, a count for readinto and write, else None.

        Raises the operation's error (an :class:`~asyncfile.core.AIOError`).
        """

    @abc.abstractmethod
    def set_callback(self, callback: Callable[[int], Any]) -> bool:
        """Call ``callback(result)`` once the operation completes."""

    @property
    @abc.abstractmethod
    def fileno(self) -> int:
        """The file descriptor."""

    @property
    @abc.abstractmethod
    def offset(self) -> int:
        """The file offset."""

    @property
    @abc.abstractmethod
    def payload(self) -> bytes | memoryview | None:
        """The data read or to write."""

    @property
    @abc.abstractmethod
    def nbytes(self) -> int:
        """The size requested."""

    @property
    @abc.abstractmethod
    def result(self) -> int:
        """The bytes transferred once complete (0 for a sync, or on error)."""

    @property
    @abc.abstractmethod
    def error(self) -> int:
        """The errno the operation failed with, or 0."""
