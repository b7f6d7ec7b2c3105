"""linux_uring: io_uring, through the native core."""

from .probes import io_uring_unavailable

_unavailable = io_uring_unavailable()
if _unavailable is not None:
    raise ImportError(f"io_uring is unavailable: {_unavailable}")

from .native import Operation  # noqa: E402
from .native import UringContext as Context  # noqa: E402

#: caio's name for "SQPOLL is used by default"; here it is always opt-in.
SQPOLL_ALLOWED = False

__all__ = ("SQPOLL_ALLOWED", "Context", "Operation")
