"""thread_aio: a native thread pool whose workers never take the GIL."""

from .probes import native_core

_core = native_core()
if isinstance(_core, str):
    raise ImportError(_core)

from .native import Operation  # noqa: E402
from .native import ThreadContext as Context  # noqa: E402

__all__ = ("Context", "Operation")
