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

When an optional extension does not build, the build prints one line saying so
(pip shows a successful build's output only with ``-v``) and leaves
``<module>.build-error`` where the module would be, holding the reason, for
``python -m asyncfile info`` to report.

``scripts/cross-macos`` compiles what :func:`extensions` returns for ``darwin``.
"""

import os
import shutil
import sys
from glob import glob

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import BaseError, CCompilerError

#: What a missing optional extension costs, for the install-time line.
WITHOUT = {
    "asyncfile.core._aio": "on the pure-Python backend instead of io_uring, "
    "Linux AIO and the native thread pool",
    "asyncfile._speedups": "with slower file objects",
}

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


class OptionalBuildExt(build_ext):
    """Builds every extension it can; says why an optional one did not build."""

    def run(self) -> None:
        # build_ext.run builds in the build directory, then copies the
        # modules into the source tree when inplace: notes go to both.
        self.notes_in_source = bool(self.inplace)
        super().run()

    def build_extensions(self) -> None:
        self.failures: dict[str, str] = {}
        super().build_extensions()
        if self.failures:
            names = sorted(self.failures, key=list(WITHOUT).index)
            print(
                f"asyncfile-io: installing without {', '.join(names)}: "
                f"{self.failures[names[0]]}. asyncfile works, "
                f"{', and '.join(WITHOUT[name] for name in names)}; "
                "`python -m asyncfile info` says the same.",
                file=sys.stderr,
            )

    def build_extension(self, ext: Extension) -> None:
        *package, module = ext.name.split(".")
        places = [os.path.dirname(self.get_ext_fullpath(ext.name))]
        if getattr(self, "notes_in_source", False):
            places.append(os.path.join(*package))
        notes = [os.path.join(place, f"{module}.build-error") for place in places]
        try:
            super().build_extension(ext)
        except (CCompilerError, BaseError):
            if not ext.optional:
                raise
            self.failures[ext.name] = why = self._why()
            for note in notes:
                os.makedirs(os.path.dirname(note), exist_ok=True)
                with open(note, "w", encoding="utf-8") as file:
                    file.write(why + "\n")
        else:
            for note in notes:
                if os.path.exists(note):
                    os.unlink(note)

    def _why(self) -> str:
        command = getattr(self.compiler, "compiler_so", None) or [""]
        if command[0] and shutil.which(command[0]) is None:
            return f"no C compiler ({command[0]!r} not found)"
        # The error holds the whole command line: too long for one line.
        return (
            f"the C compiler ({command[0] or 'cc'!r}) failed, "
            "`pip install -v` shows its errors"
        )


if __name__ == "__main__":
    setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
