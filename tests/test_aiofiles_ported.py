"""A program written for aiofiles runs on asyncfile.aiofiles with only its
import changed, and the drop-in's files are asyncfile's (no thread per call).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from platforms import WATCHED_STREAMS

import asyncfile
from asyncfile import aiofiles
from asyncfile.aiofiles import base as _base

#: An aiofiles program: what its README shows (open, iteration, os, tempfile,
#: the standard streams, and its recipe for tests: a type registered with
#: ``threadpool.wrap`` and ``threadpool.sync_open`` patched with a mock).
PROGRAM = """
import asyncio, os, sys
from unittest import mock
IMPORT

async def main(root):
    path = os.path.join(root, "notes.txt")
    async with aiofiles.open(path, mode="w", encoding="utf-8") as f:
        await f.write("alpha\\nbeta\\n")
        await f.writelines(["gamma\\n", "delta"])
        print("tell", await f.tell(), "seekable", await f.seekable())
    async with aiofiles.open(path, encoding="utf-8") as f:
        print("lines", [line async for line in f])
        await f.seek(0)
        print("first", repr(await f.readline()), "name", f.name == path, f.mode)
    f = await aiofiles.open(path, "rb")
    print("bytes", await f.read(5), await f.peek(1) != b"", f.readable())
    print("fileno", f.fileno() > 2, "isatty", await f.isatty())
    await f.close()
    print("closed", f.closed)
    print("size", (await aiofiles.os.stat(path)).st_size,
          await aiofiles.os.path.getsize(path), await aiofiles.ospath.exists(path))
    await aiofiles.os.makedirs(os.path.join(root, "a", "b"), exist_ok=True)
    await aiofiles.os.rename(path, os.path.join(root, "a", "b", "moved.txt"))
    print("listdir", sorted(await aiofiles.os.listdir(os.path.join(root, "a", "b"))))
    async with aiofiles.tempfile.NamedTemporaryFile("w+", dir=root) as t:
        await t.write("temporary")
        await t.seek(0)
        print("temp", await t.read())
    async with aiofiles.tempfile.TemporaryDirectory(dir=root) as d:
        print("tempdir", os.path.isdir(d))
    await aiofiles.stdout.write("to stdout\\n")
    await aiofiles.stdout.flush()
    try:
        await aiofiles.open(os.path.join(root, "missing"))
    except FileNotFoundError as exc:
        print("missing", exc.errno)

    aiofiles.threadpool.wrap.register(mock.MagicMock)(
        lambda *args, **kwargs: aiofiles.threadpool.AsyncBufferedIOBase(*args, **kwargs)
    )
    mock_file = mock.MagicMock()
    tp = aiofiles.threadpool
    with mock.patch.object(tp, "sync_open", return_value=mock_file) as mock_open:
        async with aiofiles.open("filename", "w") as f:
            await f.write("data")
    mock_file.write.assert_called_once_with("data")
    mock_open.assert_called_once()
    print("mock recipe ok")

asyncio.run(main(sys.argv[1]))
"""


def run_program(tmp_path: Path, import_line: str, name: str) -> str:
    script = tmp_path / f"{name}.py"
    script.write_text(PROGRAM.replace("IMPORT", import_line))
    root = tmp_path / name
    root.mkdir()
    done = subprocess.run(
        [sys.executable, str(script), str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_aiofiles_program_runs_with_only_its_import_changed(tmp_path: Path) -> None:
    pytest.importorskip("aiofiles", reason="aiofiles (the test extra) not installed")
    ported = "from asyncfile import aiofiles"
    original = "import aiofiles, aiofiles.os, aiofiles.ospath, aiofiles.tempfile"
    expected = run_program(tmp_path, original, "original")
    assert "mock recipe ok" in expected
    assert run_program(tmp_path, ported, "ported") == expected


def test_the_plain_import_forms_give_the_drop_in() -> None:
    import asyncfile.aiofiles as imported

    assert imported is aiofiles
    assert aiofiles.os.path is aiofiles.ospath
    assert aiofiles.threadpool.open is aiofiles.open


class RefusingExecutor(concurrent.futures.Executor):
    """An executor that fails any call given to it."""

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a file from open() ran a call in the executor")


async def test_files_from_open_are_asyncfile_files_and_use_no_executor(
    tmp_path: Path,
) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"0123456789\nnext\n")
    refusing = RefusingExecutor()
    async with aiofiles.open(path, "r+b", executor=refusing) as f:
        assert isinstance(f._file, asyncfile.BufferedRandom)
        assert await f.read(4) == b"0123"
        assert await f.tell() == 4
        assert await f.write(b"AB") == 2
        await f.seek(0)
        assert [line async for line in f] == [b"0123AB6789\n", b"next\n"]
    async with aiofiles.open(path, encoding="ascii", executor=refusing) as t:
        assert isinstance(t._file, asyncfile.TextIOWrapper)
        assert await t.readline() == "0123AB6789\n"
    assert f.closed
    assert t.closed


async def test_wrap_of_a_blocking_file_uses_the_executor_given(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"abc")
    with (
        open(path, "rb") as blocking,  # noqa: ASYNC230 (a blocking file to wrap)
        concurrent.futures.ThreadPoolExecutor(1) as executor,
    ):
        f = aiofiles.threadpool.wrap(blocking, executor=executor)
        assert isinstance(f, aiofiles.threadpool.binary.AsyncBufferedReader)
        assert await f.read() == b"abc"
        f = aiofiles.threadpool.wrap(blocking, executor=RefusingExecutor())
        with pytest.raises(AssertionError, match="executor"):
            await f.read()


async def test_tempfile_gives_asyncfile_temporary_files(tmp_path: Path) -> None:
    import asyncfile.tempfile

    async with aiofiles.tempfile.NamedTemporaryFile("w+", dir=tmp_path) as f:
        assert isinstance(f._file, asyncfile.tempfile.TemporaryFileWrapper)
        assert await f.write("named") == 5
        await f.seek(0)
        assert await f.read() == "named"
        assert Path(f.name).parent == tmp_path
    assert await aiofiles.os.listdir(tmp_path) == []
    async with aiofiles.tempfile.TemporaryFile(dir=tmp_path) as f:
        assert _base.is_native(f._file)
        assert await f.write(b"anonymous") == 9
    async with aiofiles.tempfile.SpooledTemporaryFile(4, dir=tmp_path) as f:
        assert isinstance(f._file, asyncfile.tempfile.SpooledTemporaryFile)
        await f.write(b"012")
        assert type(f._file._file) is io.BytesIO
        await f.write(b"3456")
        assert _base.is_native(f._file._file)  # on disk, an asyncfile file
        await f.seek(0)
        assert await f.read() == b"0123456"
    async with aiofiles.tempfile.TemporaryDirectory(dir=tmp_path) as name:
        assert Path(name).parent == tmp_path
        (Path(name) / "inside").write_bytes(b"")
    assert await aiofiles.os.listdir(tmp_path) == []


async def test_os_calls_use_only_an_executor_given_and_files_none(
    tmp_path: Path,
) -> None:
    import asyncfile.os

    assert aiofiles.os.stat.__wrapped__ is asyncfile.os.stat
    assert aiofiles.os.path.getsize.__wrapped__ is asyncfile.os.path.getsize
    path = tmp_path / "file"
    path.write_bytes(b"12345")
    assert (await aiofiles.os.stat(path)).st_size == 5
    with pytest.raises(AssertionError, match="executor"):
        await aiofiles.os.stat(path, executor=RefusingExecutor())
    with pytest.raises(AssertionError, match="executor"):
        await aiofiles.os.path.getsize(path, executor=RefusingExecutor())
    refusing = RefusingExecutor()
    async with aiofiles.tempfile.TemporaryFile(executor=refusing) as f:
        assert await f.write(b"on the core") == 11
    async with aiofiles.tempfile.NamedTemporaryFile(executor=refusing) as f:
        assert await f.write(b"on the core") == 11
    async with aiofiles.tempfile.SpooledTemporaryFile(1, executor=refusing) as f:
        assert await f.write(b"on the core") == 11
        assert await f.tell() == 11


STDIN_PROGRAM = """
import asyncio
from asyncfile import aiofiles

async def main():
    print(type(aiofiles.stdin._file).__module__, flush=True)
    print("line", repr(await aiofiles.stdin.readline()), flush=True)
    try:
        await asyncio.wait_for(aiofiles.stdin.readline(), 0.2)
    except asyncio.TimeoutError:
        print("timed out", flush=True)

asyncio.run(main())
"""


@WATCHED_STREAMS.mark
def test_a_cancelled_stdin_read_leaves_no_thread_and_the_program_exits() -> None:
    """aiofiles reads stdin in a thread that a cancellation cannot stop, so
    its program waits at exit for input that never comes; the drop-in reads
    the interpreter's stdin on the loop."""
    child = subprocess.Popen(
        [sys.executable, "-c", STDIN_PROGRAM],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    assert child.stderr is not None
    try:
        child.stdin.write("hello\n")
        child.stdin.flush()  # and left open: no more input, no end of file
        child.wait(timeout=60)
        out, err = child.stdout.read(), child.stderr.read()
    finally:
        child.kill()
        child.wait()
        for pipe in (child.stdin, child.stdout, child.stderr):
            pipe.close()
    assert child.returncode == 0, err
    assert out.splitlines() == ["asyncfile", "line 'hello\\n'", "timed out"]


async def test_replaced_standard_streams_are_used_as_aiofiles_uses_them() -> None:
    replaced = io.StringIO("typed\n")
    original = sys.stdin
    sys.stdin = replaced
    try:
        assert aiofiles.stdin._file is replaced
        assert await aiofiles.stdin.readline() == "typed\n"
    finally:
        sys.stdin = original
    written = io.StringIO()
    with contextlib.redirect_stdout(written):
        print("first", end=" ")
        await aiofiles.stdout.write("second")
    assert written.getvalue() == "first second"
