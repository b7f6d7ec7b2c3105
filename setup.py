"""Builds the native core, ``asyncfile.core._aio``.

The extension is optional: without a C compiler (or off Linux) the package still
installs and offers the pure-Python backend.  Two environment variables serve the
test and sanitizer builds:

``ASYNCFILE_STRICT_BUILD=1``
    compile with ``-Werror`` and fail the install when the extension does not build.
``ASYNCFILE_SANITIZE=address,undefined``
    instrument the extension with the named sanitizers (implies a strict build).
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


def native_core() -> list[Extension]:
    if not sys.platform.startswith("linux"):
        return []
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
    sources = ["asyncfile/core/_aio.c", *sorted(glob("asyncfile/core/src/*.c"))]
    return [
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
    ]


setup(ext_modules=native_core())
