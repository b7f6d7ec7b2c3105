"""Several processes and appenders on one log file: every record goes to the
end of the file (the O_APPEND contract logging.FileHandler relies on), and a
forked child keeps logging without losing or repeating its parent's records.
"""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from logchild import PROLOGUE

from asyncfile import AsyncFileHandler, WriteBehindWriter

pytestmark = pytest.mark.skipif(
    not hasattr(__import__("os"), "fork"), reason="needs os.fork()"
)


def run_script(body: str, path: Path) -> None:
    code = textwrap.dedent(PROLOGUE) + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr


def records_by_writer(path: Path) -> dict[str, list[int]]:
    """Each writer's record numbers in file order; fails on a torn line."""
    found: dict[str, list[int]] = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"(\w+) (\d+)", line)
        assert match, f"torn or foreign line {line!r}"
        found.setdefault(match.group(1), []).append(int(match.group(2)))
    return found


def contents(path: Path) -> bytes:
    return path.read_bytes()


def append_elsewhere(path: Path, data: bytes) -> None:
    """Append as another process would: its own descriptor, O_APPEND."""
    with open(path, "ab") as other:
        other.write(data)


async def until_written(path: Path, content: bytes, timeout: float = 10.0) -> None:
    """Wait until the file holds ``content`` (written behind the loop)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while contents(path) != content:
        assert loop.time() < deadline, contents(path)
        await asyncio.sleep(0.005)


@pytest.mark.parametrize("count", [100, 200])
def test_forked_workers_lose_no_record(tmp_path: Path, count: int) -> None:
    """A parent and 3 forked children, each in its own asyncio.run, log to
    the handler the parent made (a pre-forking server's shape)."""
    path = tmp_path / "app.log"
    run_script(
        f"""
        async def work(name):
            for i in range({count}):
                log.info("%s %d", name, i)
                if i % 10 == 9:
                    await asyncio.sleep(0)
            await handler.aclose()

        log.info("before 0")
        children = []
        for n in range(3):
            pid = os.fork()
            if pid == 0:
                asyncio.run(work(f"child{{n}}"))
                os._exit(0)
            children.append(pid)
        asyncio.run(work("parent"))
        for pid in children:
            assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        """,
        path,
    )
    found = records_by_writer(path)
    assert found.pop("before") == [0]
    assert found == {
        name: list(range(count)) for name in ("parent", "child0", "child1", "child2")
    }


def test_records_buffered_at_fork_are_written_once(tmp_path: Path) -> None:
    """Records the parent's loop had not written when it forked are the
    parent's to write; the child (whose copy of that loop never runs)
    writes its own at once, as no loop runs for it."""
    path = tmp_path / "app.log"
    run_script(
        """
        async def main():
            for i in range(100):
                log.info("parent %d", i)  # buffered: the loop has not run
            pid = os.fork()
            if pid == 0:
                for i in range(10):
                    log.info("child %d", i)
                handler.close()
                os._exit(0)
            assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
            for i in range(100, 200):
                log.info("parent %d", i)
            await handler.aclose()

        asyncio.run(main())
        """,
        path,
    )
    found = records_by_writer(path)
    assert found == {"parent": list(range(200)), "child": list(range(10))}


async def test_a_foreign_appender_between_records(
    tmp_path: Path, logger: logging.Logger
) -> None:
    """Another writer appends between two records: the second record goes
    after its data, not over it at the offset the handler expected."""
    path = tmp_path / "app.log"
    handler = AsyncFileHandler(path)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.info("first")
    await until_written(path, b"first\n")
    append_elsewhere(path, b"from another process\n")
    logger.info("second")
    await handler.aclose()
    assert contents(path) == b"first\nfrom another process\nsecond\n"


async def test_rollover_uses_the_real_file_size(
    tmp_path: Path, logger: logging.Logger
) -> None:
    """Like RotatingFileHandler, the size that decides a rollover is the
    file's, grown by other appenders too, not what this handler wrote."""
    path = tmp_path / "app.log"
    handler = AsyncFileHandler(path, maxBytes=100, backupCount=1)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.info("mine 0")
    await until_written(path, b"mine 0\n")
    append_elsewhere(path, b"x" * 90 + b"\n")
    logger.info("mine 1")
    await handler.aclose()
    assert contents(Path(f"{path}.1")) == b"mine 0\n" + b"x" * 90 + b"\n"
    assert contents(path) == b"mine 1\n"


@pytest.mark.every_loop
async def test_write_behind_append_mode_goes_to_the_end(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    append_elsewhere(path, b"old\n")
    async with WriteBehindWriter(path, "ab") as writer:
        await writer.write(b"one\n")
        await writer.flush()
        append_elsewhere(path, b"foreign\n")
        await writer.write(b"two\n")
        await writer.flush()
        append_elsewhere(path, b"foreign again\n")
        await writer.write(b"three\n")
    assert contents(path) == b"old\none\nforeign\ntwo\nforeign again\nthree\n"


def test_write_behind_appenders_in_forked_processes(tmp_path: Path) -> None:
    """Four processes append through their own writers at once: every
    write is whole and none is lost."""
    path = tmp_path / "out.log"
    code = textwrap.dedent(
        """
        import asyncio, os, sys
        from asyncfile import WriteBehindWriter

        async def work(name):
            async with WriteBehindWriter(sys.argv[1], "ab") as writer:
                for i in range(2000):
                    await writer.write(f"{name} {i}\\n".encode())
                    if i % 50 == 49:
                        await asyncio.sleep(0)

        children = []
        for n in range(3):
            pid = os.fork()
            if pid == 0:
                asyncio.run(work(f"child{n}"))
                os._exit(0)
            children.append(pid)
        asyncio.run(work("parent"))
        for pid in children:
            assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found = records_by_writer(path)
    assert found == {
        name: list(range(2000)) for name in ("parent", "child0", "child1", "child2")
    }
