"""Whether this process may use each kernel interface, and if not, why."""

from __future__ import annotations

import errno
import functools
import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from types import ModuleType

__all__ = ("io_uring_unavailable", "linux_aio_unavailable", "native_core")


def _read_sysctl(name: str) -> str | None:
    try:
        with open(f"/proc/sys/{name.replace('.', '/')}", encoding="ascii") as file:
            return file.read().strip()
    except OSError:
        return None


@functools.cache
def native_core() -> ModuleType | str:
    """The native extension module, or why it cannot be imported."""
    try:
        from . import _aio
    except ImportError as exc:
        if sys.platform == "win32":
            return "the native core is not built on Windows: the python backend serves"
        here = os.path.dirname(__file__)
        built = (os.path.join(here, "_aio" + suffix) for suffix in EXTENSION_SUFFIXES)
        if not any(os.path.exists(path) for path in built):
            # Typically a source checkout shadowing the installed package.
            return (
                f"the native core is not built in {here} (a source tree? "
                "install it with `pip install -e .`, or run from elsewhere)"
            )
        return f"the native core cannot load ({exc})"
    return _aio


@functools.cache
def io_uring_unavailable() -> str | None:
    """None when io_uring works here, else why not."""
    core = native_core()
    if isinstance(core, str):
        return core
    code = core.probe_io_uring()
    if code == 0:
        return None
    why = f"io_uring_setup failed: [Errno {code}] {os.strerror(code)}"
    disabled = _read_sysctl("kernel.io_uring_disabled")
    if code == errno.EPERM and disabled not in (None, "0"):
        why += f" (kernel.io_uring_disabled = {disabled})"
    elif code == errno.EPERM:
        why += " (blocked by a seccomp filter or missing privileges)"
    return why


@functools.cache
def linux_aio_unavailable() -> str | None:
    """None when Linux AIO works here, else why not."""
    core = native_core()
    if isinstance(core, str):
        return core
    code = core.probe_linux_aio()
    if code == 0:
        return None
    why = f"io_setup failed: [Errno {code}] {os.strerror(code)}"
    if code == errno.EAGAIN:
        in_use, limit = _read_sysctl("fs.aio-nr"), _read_sysctl("fs.aio-max-nr")
        why += f" (fs.aio-nr {in_use} of fs.aio-max-nr {limit} in use)"
    return why
