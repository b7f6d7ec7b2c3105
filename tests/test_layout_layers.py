"""The tree shows the file layers (issue 20): ``asyncfile/io/`` holds one
module per layer, from the bottom up, as CPython's ``Lib/_pyio.py`` and
``Modules/_io`` split them, each layer's classes live in its module, and a
layer never imports one above it.  Before, the public ``FileIO`` sat in
``_bufferedio.py`` beside the buffered classes, ``_fileio.py`` held only the
unlocked raw file, and ``_tasks.py`` the lock and the cancellation policy."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pickle
from pathlib import Path

import pytest

import asyncfile

PACKAGE = Path(asyncfile.__file__).resolve().parent
IO = PACKAGE / "io"

#: Each module of asyncfile/io, bottom first: a module may import only the
#: ones before it.
LAYERS = ("_locks", "_cancellation", "_base", "_raw", "_buffered", "_text")

#: What each module defines (classes, and the functions of the policy).
DEFINES = {
    "_locks": {"TaskLock", "serialized"},
    "_cancellation": {"complete_despite_cancel", "runs_to_the_end"},
    "_base": {"IOBase", "optional_size", "ssize", "c_int", "to_offset"},
    "_raw": {"PyRawFileBase", "AsyncFileIO", "FileIO"},
    "_buffered": {
        "BufferedIOBase",
        "PyBufferedFileBase",
        "_BufferedBase",
        "BufferedReader",
        "BufferedWriter",
        "BufferedRandom",
    },
    "_text": {"PyTextFileBase", "TextIOWrapper"},
}

#: The public classes and the layer module that defines each.
PUBLIC = {
    "FileIO": "_raw",
    "BufferedReader": "_buffered",
    "BufferedWriter": "_buffered",
    "BufferedRandom": "_buffered",
    "TextIOWrapper": "_text",
}

#: What the layers may import from asyncfile outside asyncfile/io: the core,
#: the contexts and the helpers below the file objects, never the façades
#: built on them (file.py's open(), aiofile, streams, ...).
BELOW_THE_LAYERS = {
    "asyncfile._filesystem",
    "asyncfile._readiness",
    "asyncfile._speedups",
    "asyncfile.contexts",
}


def tree(module: str) -> ast.Module:
    return ast.parse((IO / f"{module}.py").read_text(), f"{module}.py")


def top_level_definitions(module: str) -> set[str]:
    return {
        node.name
        for node in tree(module).body
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
    }


def asyncfile_imports(module: str) -> set[str]:
    """The asyncfile modules ``asyncfile.io.<module>`` imports, anywhere in it
    (under TYPE_CHECKING and inside functions too), as absolute names."""
    imported: set[str] = set()
    for node in ast.walk(tree(module)):
        if isinstance(node, ast.Import):
            imported.update(
                a.name for a in node.names if a.name.startswith("asyncfile")
            )
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
                if not base.startswith("asyncfile"):
                    continue
            else:
                parent = "asyncfile.io".rsplit(".", node.level - 1)[0]
                base = f"{parent}.{node.module}" if node.module else parent
            if node.module is None:  # from . import x: x is a module
                imported.update(f"{base}.{alias.name}" for alias in node.names)
            else:
                imported.add(base)
    return imported


def test_each_layer_has_its_module_and_nothing_else_is_in_the_package() -> None:
    modules = {path.stem for path in IO.glob("*.py")} - {"__init__"}
    assert modules == set(LAYERS)


@pytest.mark.parametrize("module", LAYERS)
def test_each_layer_module_defines_its_layers_names(module: str) -> None:
    defined = top_level_definitions(module)
    assert DEFINES[module] <= defined
    elsewhere = set().union(*(DEFINES[m] for m in LAYERS if m != module))
    assert not defined & elsewhere, "a name defined in two layer modules"


@pytest.mark.parametrize(("name", "module"), PUBLIC.items())
def test_public_classes_come_from_their_layer_and_keep_their_public_path(
    name: str, module: str
) -> None:
    layer = importlib.import_module(f"asyncfile.io.{module}")
    cls = getattr(asyncfile, name)
    assert getattr(layer, name) is cls
    assert (cls.__module__, cls.__qualname__) == ("asyncfile", name)
    assert pickle.loads(pickle.dumps(cls)) is cls


def test_the_io_package_is_no_second_public_spelling() -> None:
    import asyncfile.io

    assert [n for n in vars(asyncfile.io) if not n.startswith("_")] == []


@pytest.mark.parametrize("old", ["_fileio", "_bufferedio", "_textio", "_tasks"])
def test_the_old_flat_modules_are_gone(old: str) -> None:
    assert not (PACKAGE / f"{old}.py").exists()
    assert importlib.util.find_spec(f"asyncfile.{old}") is None


@pytest.mark.parametrize("module", LAYERS)
def test_a_layer_imports_only_the_layers_below_it(module: str) -> None:
    imported = asyncfile_imports(module)
    below = {f"asyncfile.io.{m}" for m in LAYERS[: LAYERS.index(module)]}
    inside = {name for name in imported if name.startswith("asyncfile.io.")}
    assert inside <= below, f"{module} imports {sorted(inside - below)}"
    outside = {
        name
        for name in imported - inside
        if not name.startswith("asyncfile.core") and name != "asyncfile"
    }
    assert outside <= BELOW_THE_LAYERS, (
        f"{module} imports {sorted(outside - BELOW_THE_LAYERS)}"
    )
