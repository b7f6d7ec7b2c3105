"""An unclosed file that is collected keeps io's contract: it warns
(``ResourceWarning``), writes what it still buffered, and closes its
descriptor, on the loop's thread, after the loop closed, at interpreter exit
and in a forked child, as the built-in file objects do."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from backends import clean_env
from platforms import FORK

from asyncfile.file import open as aopen

#: (mode, kwargs, what is written): a text file's encoder output and its
#: buffer, a binary buffer, and one that writes and reads.
CASES = [
    ("w", {"encoding": "utf-16"}, "pending text é\n"),
    ("a", {"encoding": "utf-8", "newline": "\r\n"}, "appended\n"),
    ("wb", {}, b"buffered bytes"),
    ("r+b", {}, b"over"),
    ("w+", {"encoding": "utf-8"}, "read and written"),
]


async def _open_and_write(
    path: Path, mode: str, kwargs: dict[str, Any], data: Any
) -> Any:
    f = await aopen(path, mode, **kwargs)
    await f.write(data)
    return f


def _drop(held: list[Any]) -> None:
    """Let go of the only references, then run the cycle collector."""
    held.clear()
    gc.collect()


def _io_twin(path: Path, mode: str, kwargs: dict[str, Any], data: Any) -> bytes:
    """The bytes the built-in open() leaves after the same writes and a
    collection."""
    f = open(path, mode, **kwargs)  # noqa: SIM115
    f.write(data)
    held = [f]
    del f
    with pytest.warns(ResourceWarning):
        _drop(held)
    return path.read_bytes()


@pytest.mark.parametrize(("mode", "kwargs", "data"), CASES)
def test_unclosed_file_writes_its_buffers_when_collected_after_the_loop_closed(
    tmp_path: Path, mode: str, kwargs: dict[str, Any], data: Any
) -> None:
    for path in (tmp_path / "io", tmp_path / "af"):
        path.write_bytes(b"0123456789")
    expected = _io_twin(tmp_path / "io", mode, kwargs, data)
    held = [asyncio.run(_open_and_write(tmp_path / "af", mode, kwargs, data))]
    description = repr(held[0])
    with pytest.warns(ResourceWarning) as record:
        _drop(held)
    assert [str(w.message) for w in record] == [f"unclosed file {description}"]
    assert (tmp_path / "af").read_bytes() == expected
    assert expected != b"0123456789"


@pytest.mark.parametrize(("mode", "kwargs", "data"), CASES)
async def test_unclosed_file_writes_its_buffers_when_collected_on_the_loop(
    tmp_path: Path, mode: str, kwargs: dict[str, Any], data: Any
) -> None:
    for path in (tmp_path / "io", tmp_path / "af"):
        path.write_bytes(b"0123456789")
    expected = _io_twin(tmp_path / "io", mode, kwargs, data)
    cycle: list[Any] = [await _open_and_write(tmp_path / "af", mode, kwargs, data)]
    cycle.append(cycle)  # collected by the cycle collector, not refcounting
    held = [cycle]
    del cycle
    with pytest.warns(ResourceWarning, match="unclosed file"):
        _drop(held)
    assert (tmp_path / "af").read_bytes() == expected


async def test_unclosed_append_file_collected_writes_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"start\n")
    held = [await aopen(path, "a", encoding="utf-8")]
    await held[0].write("mine\n")
    other = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0))
    os.write(other, b"theirs\n")
    os.close(other)
    with pytest.warns(ResourceWarning):
        _drop(held)
    # Text mode writes the system's line ending, as io does.
    assert path.read_bytes() == b"start\ntheirs\n" + f"mine{os.linesep}".encode()


async def test_file_not_owning_its_descriptor_writes_without_a_warning(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f"
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        f = await aopen(fd, "w", encoding="utf-8", closefd=False)
        await f.write("shared")
        del f
        gc.collect()  # filterwarnings=error: a warning would fail here
    finally:
        os.close(fd)
    assert path.read_bytes() == b"shared"


async def test_a_failing_write_at_collection_is_reported_as_unraisable(
    tmp_path: Path,
) -> None:
    """As io: the error goes to sys.unraisablehook; the descriptor closes."""
    if not os.path.exists("/dev/full"):  # noqa: ASYNC240
        pytest.skip("this system has no /dev/full")
    held = [await aopen("/dev/full", "wb")]
    await held[0].write(b"x")
    errors: list[Any] = []
    previous = sys.unraisablehook
    sys.unraisablehook = errors.append
    try:
        with pytest.warns(ResourceWarning):
            _drop(held)
    finally:
        sys.unraisablehook = previous
    assert [type(error.exc_value) for error in errors] == [OSError]
    assert errors[0].exc_value.errno == 28  # ENOSPC


def _run_child(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-X", "dev", "-c", textwrap.dedent(script), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(PYTHONPATH=str(Path(__file__).parent.parent)),
        check=False,
    )


EXIT_WITHOUT_CLOSING = """
    import asyncio, builtins, gc, sys
    from pathlib import Path
    import asyncfile

    directory = Path(sys.argv[1])
    kept = []

    async def main():
        global module_level
        module_level = await asyncfile.open(directory / "global", "w", encoding="utf-8")
        await module_level.write("global")
        in_cycle = await asyncfile.open(directory / "cycle", "wb")
        await in_cycle.write(b"cycle")
        cycle = [in_cycle]
        cycle.append(cycle)
        kept.append(cycle)
        for name, f in (("io-global", "io_global"), ("io-cycle", None)):
            g = builtins.open(directory / name, "w", encoding="utf-8")
            g.write(name)
            if f:
                globals()[f] = g
            else:
                cycle.append(g)

    asyncio.run(main())
"""


def test_interpreter_exit_writes_unclosed_files(tmp_path: Path) -> None:
    child = _run_child(EXIT_WITHOUT_CLOSING, tmp_path)
    assert child.returncode == 0, child.stderr
    for name in ("global", "cycle", "io-global", "io-cycle"):
        assert (tmp_path / name).read_bytes() == name.encode(), name
    ours = [line for line in child.stderr.splitlines() if "asyncfile" in line]
    assert any("ResourceWarning: unclosed file" in line for line in ours), child.stderr
    assert "Exception ignored" not in child.stderr, child.stderr


FORKED_CHILD_EXITS = """
    import asyncio, builtins, os, sys
    from pathlib import Path
    import asyncfile

    directory = Path(sys.argv[1])

    async def open_both():
        ours = await asyncfile.open(directory / "af", "a", encoding="utf-8")
        await ours.write("before fork\\n")
        theirs = builtins.open(directory / "io", "a", encoding="utf-8")
        theirs.write("before fork\\n")
        return ours, theirs

    ours, theirs = asyncio.run(open_both())
    pid = os.fork()
    if pid == 0:
        async def child():
            await ours.write("child\\n")
        asyncio.run(child())
        theirs.write("child\\n")
        sys.exit(0)  # an ordinary exit: the child collects what it holds
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0

    async def close():
        await ours.write("parent\\n")
        await ours.close()
    asyncio.run(close())
    theirs.write("parent\\n")
    theirs.close()
"""


@FORK.mark
def test_forked_child_writes_its_copy_of_the_buffers_as_io_does(
    tmp_path: Path,
) -> None:
    """What the parent buffered before fork() is written by both processes,
    as with io's file objects (flush before forking to avoid it)."""
    child = _run_child(FORKED_CHILD_EXITS, tmp_path)
    assert child.returncode == 0, child.stderr
    expected = (tmp_path / "io").read_bytes()
    assert expected == b"before fork\nchild\nbefore fork\nparent\n"
    assert (tmp_path / "af").read_bytes() == expected
