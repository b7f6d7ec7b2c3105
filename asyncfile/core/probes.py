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


#: Where an install that could not build the native core says why (setup.py).
BUILD_ERROR_NOTE = "_aio.build-error"


@functools.cache
def native_core() -> ModuleType | str:
    """The native extension module, or why it cannot be imported: a load
    error, a build that failed at install time (and why), a source tree that
    was never built, or a platform it is not built for."""
    try:
        from . import _aio
    except ImportError as exc:
        if sys.platform == "win32":
            return "the native core is not built on Windows: the python backend serves"
        here = os.path.dirname(__file__)
        built = (os.path.join(here, "_aio" + suffix) for suffix in EXTENSION_SUFFIXES)
        if any(os.path.exists(path) for path in built):
            return f"the native core cannot load ({exc})"
        return _why_not_built(here)
    return _aio


def _why_not_built(here: str) -> str:
    try:
        with open(os.path.join(here, BUILD_ERROR_NOTE), encoding="utf-8") as file:
            why = file.read().strip()
    except OSError:
        why = ""
    if why:
        return (
            f"the native core was not built when asyncfile was installed: {why}; "
            "reinstall with a working C compiler to use it"
        )
    checkout = os.path.dirname(os.path.dirname(here))
    if os.path.exists(os.path.join(here, "_aio.c")) and os.path.exists(
        os.path.join(checkout, "setup.py")
    ):
        return (
            f"the native core is not built in this source tree ({checkout}): "
            "`pip install -e .` there builds it, or run from outside the tree "
            "to import the installed package"
        )
    if not sys.platform.startswith("linux"):
        return f"the native core is not built on this platform ({sys.platform})"
    return (
        "the native core is not in this installation; reinstall with "
        "`pip install -v asyncfile-io` to see why it was not built"
    )


def _portable_build(core: ModuleType, interface: str) -> str | None:
    if not core.PORTABLE:
        return None
    return (
        f"the native core is the portable build (as on macOS, or built with "
        f"ASYNCFILE_PORTABLE=1): it has no {interface}"
    )


@functools.cache
def io_uring_unavailable() -> str | None:
    """None when io_uring works here, else why not."""
    core = native_core()
    if isinstance(core, str):
        return core
    portable = _portable_build(core, "io_uring")
    if portable is not None:
        return portable
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
    portable = _portable_build(core, "Linux AIO")
    if portable is not None:
        return portable
    code = core.probe_linux_aio()
    if code == 0:
        return None
    why = f"io_setup failed: [Errno {code}] {os.strerror(code)}"
    if code == errno.EAGAIN:
        in_use, limit = _read_sysctl("fs.aio-nr"), _read_sysctl("fs.aio-max-nr")
        why += f" (fs.aio-nr {in_use} of fs.aio-max-nr {limit} in use)"
    return why
