"""Builds the native core, ``asyncfile.core._aio``, and ``asyncfile._speedups``.

The extensions are optional: without a C compiler (or off Linux, for the core)
the package still installs, with the pure-Python backend and file objects.  Two
environment variables serve the test and sanitizer builds:

``ASYNCFILE_STRICT_BUILD=1``
    compile with ``-Werror`` and fail the install when an extension does not build.
``ASYNCFILE_SANITIZE=address,undefined``
    instrument the extensions with the named sanitizers (implies a strict build).
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


def extensions() -> list[Extension]:
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
    if sys.platform.startswith("linux"):
        sources = ["asyncfile/core/_aio.c", *sorted(glob("asyncfile/core/src/*.c"))]
        built.append(
            Extension(
                "asyncfile.core._aio",
                sources=sources,
                depends=sorted(glob("asyncfile/core/src/*.h")),
                include_dirs=["asyncfile/core/src"],
                extra_compile_args=compile_args,
                extra_link_args=link_args,
                libraries=["pthread"],
                optional=not strict,
            )
        )
    return built


setup(ext_modules=extensions())
