"""Builds the native core, ``asyncfile.core._aio``, and ``asyncfile._speedups``.

The extensions are optional: without a C compiler (or off Linux and macOS, for
the core) the package still installs, with the pure-Python backend and file
objects.  On macOS the core is the portable build: the native thread pool alone,
woken through a pipe.  Environment variables serve the test and sanitizer builds:

``ASYNCFILE_STRICT_BUILD=1``
    compile with ``-Werror`` and fail the install when an extension does not build.
``ASYNCFILE_SANITIZE=address,undefined``
    instrument the extensions with the named sanitizers (implies a strict build).
``ASYNCFILE_PORTABLE=1``
    build the core as macOS gets it (no io_uring, Linux AIO, eventfd or
    RWF_NOWAIT), so that its code runs through the test suite on Linux.

``scripts/cross-macos`` compiles what :func:`extensions` returns for ``darwin``.
"""

import os
import sys
from glob import glob

from setuptools import Extension, setup

WARNINGS = [
    "-Wall",
    "-Wextra",
    "-Wshadow",
    "-Wstrict-prototypes",
    "-Wno-unused-parameter",
]


def extensions(platform: str = sys.platform) -> list[Extension]:
    """The extensions to build on ``platform`` (a ``sys.platform`` value)."""
    sanitize = os.environ.get("ASYNCFILE_SANITIZE", "")
    strict = bool(sanitize) or os.environ.get("ASYNCFILE_STRICT_BUILD") == "1"
    compile_args = ["-std=gnu11", "-fvisibility=hidden", *WARNINGS]
    link_args: list[str] = []
    if strict:
        compile_args.append("-Werror")
    if sanitize:
        flags = [f"-fsanitize={sanitize}", "-fno-omit-frame-pointer", "-g", "-O1"]
        compile_args += [*flags, "-fno-sanitize-recover=undefined"]
        link_args += flags
    built = [
        Extension(
            "asyncfile._speedups",
            sources=["asyncfile/_speedups.c"],
            extra_compile_args=compile_args,
            extra_link_args=link_args,
            optional=not strict,
        )
    ]
    linux = platform.startswith("linux")
    if linux or platform == "darwin":
        portable = not linux or os.environ.get("ASYNCFILE_PORTABLE") == "1"
        linux_only = {"asyncfile/core/src/uring.c", "asyncfile/core/src/kaio.c"}
        sources = ["asyncfile/core/_aio.c"] + [
            source
            for source in sorted(glob("asyncfile/core/src/*.c"))
            if not (portable and source in linux_only)
        ]
        built.append(
            Extension(
                "asyncfile.core._aio",
                sources=sources,
                depends=sorted(glob("asyncfile/core/src/*.h")),
                include_dirs=["asyncfile/core/src"],
                define_macros=[("ASYNCFILE_PORTABLE", "1")] if portable else [],
                extra_compile_args=compile_args,
                extra_link_args=link_args,
                libraries=["pthread"],
                optional=not strict,
            )
        )
    return built


if __name__ == "__main__":
    setup(ext_modules=extensions())
