"""linux_aio: Linux kernel AIO (with a thread pool for page-cache misses)."""

from .probes import linux_aio_unavailable

_unavailable = linux_aio_unavailable()
if _unavailable is not None:
    raise ImportError(f"Linux AIO is unavailable: {_unavailable}")

from .native import LinuxAioContext as Context  # noqa: E402
from .native import Operation  # noqa: E402

__all__ = ("Context", "Operation")
