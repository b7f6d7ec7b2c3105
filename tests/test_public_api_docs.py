"""Every public callable shows its own docstring and a signature, with the C
speedups and without them: ``help()`` and ``inspect`` describe what a user
calls, never the accelerator standing in for it."""

from __future__ import annotations

import inspect
import json
import pydoc
import subprocess
import sys
import types
from pathlib import Path

import pytest
from backends import clean_env

import asyncfile
import asyncfile.aiofiles
import asyncfile.os
import asyncfile.shutil
import asyncfile.tempfile

TESTS = Path(__file__).resolve().parent
PACKAGE_ROOT = TESTS.parent

#: Public modules, walked through their ``__all__`` (modules listed there too).
MODULES = (
    "asyncfile",
    "asyncfile.streams",
    "asyncfile.aiofile",
    "asyncfile.aiofiles",
    "asyncfile.aiofiles.threadpool.binary",
    "asyncfile.aiofiles.threadpool.text",
    "asyncfile.core",
    "asyncfile.os",
    "asyncfile.os.path",
    "asyncfile.shutil",
    "asyncfile.tempfile",
)

#: Docstrings that describe something other than the callable itself.
GENERIC = (
    "Initialize self.",
    "Create and return a new object.",
    "Call self as a function.",
    "A coroutine method `method(self, arg)`",  # the C FastPathMethod's own
)


def _defined_in_asyncfile(value: object) -> bool:
    owner = getattr(value, "__objclass__", None)
    module = getattr(value, "__module__", None) or getattr(owner, "__module__", "")
    return isinstance(module, str) and module.startswith("asyncfile")


def _takes_a_builtin_exceptions_arguments(value: object) -> bool:
    # Like OSError itself, which has no inspect.signature either.
    return (
        inspect.isclass(value)
        and issubclass(value, BaseException)
        and not isinstance(value.__init__, types.FunctionType)
    )


def _public_callables() -> dict[str, object]:
    found: dict[str, object] = {}
    pending = [sys.modules[name] for name in MODULES]
    seen_modules: set[str] = set()
    while pending:
        module = pending.pop()
        if module.__name__ in seen_modules:
            continue
        seen_modules.add(module.__name__)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if isinstance(value, types.ModuleType):
                pending.append(value)
            elif callable(value) and _defined_in_asyncfile(value):
                found.setdefault(f"{module.__name__}.{name}", value)
    for qualified, value in list(found.items()):
        if not inspect.isclass(value):
            continue
        for attribute in dir(value):
            if attribute.startswith("_"):
                continue
            member = getattr(value, attribute)
            if callable(member) and _defined_in_asyncfile(member):
                found[f"{qualified}.{attribute}"] = member
    return found


def problems() -> list[str]:
    """What is wrong with the public callables' documentation, one per line."""
    import asyncfile.aiofile
    import asyncfile.core
    import asyncfile.streams  # noqa: F401

    wrong = []
    for name, value in sorted(_public_callables().items()):
        for source, doc in (
            ("inspect.getdoc", inspect.getdoc(value)),
            ("help()", pydoc.getdoc(value)),
        ):
            if not doc:
                wrong.append(f"{name}: {source} finds no docstring")
            elif doc.startswith(GENERIC):
                wrong.append(f"{name}: {source} gives a generic text: {doc[:40]!r}")
        if "_speedups" in str(getattr(value, "__module__", "")):
            wrong.append(f"{name}: __module__ is {value.__module__!r}")
        if _takes_a_builtin_exceptions_arguments(value):
            continue
        try:
            inspect.signature(value)
        except (TypeError, ValueError) as exc:
            wrong.append(f"{name}: no inspect.signature ({exc})")
    return wrong


def run_walk(*, speedups: bool) -> list[str]:
    block = "" if speedups else "sys.modules['asyncfile._speedups'] = None; "
    code = (
        f"import json, sys; {block}sys.path.insert(0, {str(TESTS)!r}); "
        "import asyncfile, test_public_api_docs as walk; "
        "assert (asyncfile.io._buffered.FastPathMethod is not None) == "
        f"{speedups}, 'speedups not as asked'; "
        "print(json.dumps(walk.problems()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=clean_env(PYTHONPATH=str(PACKAGE_ROOT)),
    )
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def test_the_walk_finds_the_methods_users_call() -> None:
    names = _public_callables()
    for expected in (
        "asyncfile.open",
        "asyncfile.BufferedReader.read",
        "asyncfile.BufferedWriter.write",
        "asyncfile.TextIOWrapper.write",
        "asyncfile.ChunkReader.read_chunk",
        "asyncfile.streams.LineStream.readlines",
        "asyncfile.aiofile.AIOFile.read",
        "asyncfile.core.AsyncioContext.read",
    ):
        assert expected in names, expected
    assert len(names) > 150


@pytest.mark.parametrize("speedups", [True, False], ids=["speedups", "pure-python"])
def test_public_callables_have_their_own_docstring_and_signature(
    speedups: bool,
) -> None:
    if speedups:
        try:
            import asyncfile._speedups  # noqa: F401
        except ImportError as exc:
            pytest.skip(f"asyncfile._speedups is not built here ({exc})")
    assert run_walk(speedups=speedups) == []


def test_help_on_a_fast_path_method_shows_the_method() -> None:
    text = pydoc.render_doc(asyncfile.BufferedReader.read, renderer=pydoc.plaintext)
    assert "_speedups" not in text
    assert "async read(self, size" in text
    assert "Like ``io.BufferedReader.read``" in text
