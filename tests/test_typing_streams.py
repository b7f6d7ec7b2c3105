"""The streams' static types, as ``mypy --strict`` sees them from user code:
chunks are ``bytes``, or ``memoryview`` with ``reuse_buffers=True``; a
LineStream's separator has the type of its lines."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

ACCEPTED = """\
    from typing_extensions import assert_type

    import asyncfile


    async def chunks(path: str, flag: bool) -> None:
        async with asyncfile.ChunkReader(path) as reader:
            async for chunk in reader:
                assert_type(chunk, bytes)
            assert_type(await reader.read_chunk(), bytes)
        async with asyncfile.ChunkReader(path, reuse_buffers=True) as views:
            async for view in views:
                assert_type(view, memoryview)
        async for either in asyncfile.ChunkReader(path, reuse_buffers=flag):
            assert_type(either, bytes | memoryview)


    async def lines(path: str) -> None:
        binary = asyncfile.LineStream(path, separator=b"\\r\\n")
        assert_type(binary, asyncfile.LineStream[bytes])
        async for raw in binary:
            assert_type(raw, bytes)
        text = asyncfile.LineStream(path, separator="\\n", encoding="utf-8")
        async for line in text:
            assert_type(line, str)
"""

REJECTED = {
    "text separator without encoding": 'asyncfile.LineStream("p", separator="\\n")',
    "bytes separator with encoding": (
        'asyncfile.LineStream("p", separator=b"\\n", encoding="utf-8")'
    ),
    "separator of another type": 'asyncfile.LineStream("p", separator=10)',
}


def mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("mypy", reason="mypy is not installed (the test extra has it)")
    checked = tmp_path / "user_code.py"
    checked.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", checked],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_chunks_and_lines_have_their_types(tmp_path: Path) -> None:
    result = mypy(tmp_path, ACCEPTED)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("call", REJECTED.values(), ids=REJECTED.keys())
def test_a_separator_of_the_wrong_kind_is_a_type_error(
    call: str, tmp_path: Path
) -> None:
    result = mypy(tmp_path, f"import asyncfile\n\n{call}\n")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "No overload variant" in result.stdout, result.stdout
