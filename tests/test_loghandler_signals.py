"""What a process killed by SIGTERM keeps of its log, and flushing from the
loop: a real child process, a real signal, a real file."""

from __future__ import annotations

import logging
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from logchild import PROLOGUE
from mounts import tmpfs
from platforms import LOOP_SIGNALS

import asyncfile
from asyncfile import AsyncFileHandler

#: Records each loop turn of the children below emits.
BURST = 50
#: Reports the parent reads before it sends SIGTERM: the child is well into
#: its work, with records buffered, being written and written.
REPORTS_BEFORE_SIGNAL = 200


def start(body: str, path: Path) -> subprocess.Popen[str]:
    code = textwrap.dedent(PROLOGUE) + textwrap.dedent(body)
    return subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def signal_after_reports(child: subprocess.Popen[str]) -> tuple[list[int], str]:
    """Read REPORTS_BEFORE_SIGNAL lines, send SIGTERM, read to the end."""
    assert child.stdout is not None
    assert child.stderr is not None
    reports: list[int] = []
    try:
        while len(reports) < REPORTS_BEFORE_SIGNAL:
            line = child.stdout.readline()
            assert line, child.stderr.read()
            reports.append(int(line))
        child.send_signal(signal.SIGTERM)
        rest, errors = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    reports += [int(line) for line in rest.split()]
    return reports, errors


def record_numbers(path: Path) -> list[int]:
    """The record numbers in the file, which must be whole lines (a last
    line cut short by the kill, without its newline, is left out)."""
    text = path.read_text()
    lines = text.split("\n")[:-1]  # the part after the last newline is cut
    numbers = []
    for line in lines:
        match = re.fullmatch(r"rec (\d+)", line)
        assert match, f"torn line {line!r}"
        numbers.append(int(match.group(1)))
    return numbers


def test_sigterm_loses_only_the_records_of_the_last_loop_turns(
    tmp_path: Path,
) -> None:
    """The documented bound: a record reaches the kernel at the end of the
    loop turn it was emitted in, when no write is in progress.  On tmpfs
    writes complete as they start, so the child can claim, at the start of
    each turn, every record emitted up to two turns before; the default
    action of SIGTERM, whenever it lands, must leave all those claimed."""
    if asyncfile.core.selection.name in ("python", "thread"):
        # (The thread pool is all the portable core, macOS's, has.)
        pytest.skip(
            f"the {asyncfile.core.selection.name} backend writes on worker threads: "
            "a write stays in progress for as many loop turns as the worker takes "
            "to run, which the bound allows"
        )
    with tmpfs(tmp_path / "mnt", "64m") as mounted:
        path = mounted / "app.log"
        child = start(
            f"""
            async def main():
                emitted = [0, 0]
                i = 0
                while True:
                    os.write(1, b"%d\\n" % emitted[-2])
                    for _ in range({BURST}):
                        log.info("rec %d", i)
                        i += 1
                    emitted = [emitted[-1], i]
                    await asyncio.sleep(0)

            asyncio.run(main())
            """,
            path,
        )
        reports, errors = signal_after_reports(child)
        assert child.returncode == -signal.SIGTERM, errors
        claimed = max(reports)
        assert claimed >= (REPORTS_BEFORE_SIGNAL - 2) * BURST
        numbers = record_numbers(path)
        assert numbers == list(range(len(numbers)))  # in order, no gap
        assert len(numbers) >= claimed, (len(numbers), claimed)


@LOOP_SIGNALS.mark
def test_flush_on_sigterm_loses_nothing(tmp_path: Path) -> None:
    """The README's recipe: a SIGTERM handler on the loop that stops the
    work and awaits ``handler.aclose()`` keeps every record."""
    path = tmp_path / "app.log"
    child = start(
        f"""
        async def main():
            stop = asyncio.Event()
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
            i = 0
            while not stop.is_set():
                for _ in range({BURST}):
                    log.info("rec %d", i)
                    i += 1
                os.write(1, b"%d\\n" % i)
                await asyncio.sleep(0)
            await handler.aclose()
            os.write(1, b"%d\\n" % i)

        asyncio.run(main())
        """,
        path,
    )
    reports, errors = signal_after_reports(child)
    assert child.returncode == 0, errors
    assert record_numbers(path) == list(range(reports[-1]))


async def test_aflush_returns_once_the_records_are_in_the_file(
    tmp_path: Path, logger: logging.Logger
) -> None:
    path = tmp_path / "app.log"
    handler = AsyncFileHandler(path)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    for i in range(1000):
        logger.info("rec %d", i)
    handler.flush()  # on the loop's thread: starts the writes, cannot wait
    await handler.aflush()
    assert record_numbers(path) == list(range(1000))
    logger.info("rec 1000")
    await handler.aflush()
    assert record_numbers(path) == list(range(1001))
    await handler.aclose()
    await handler.aflush()  # closed: nothing to do


@pytest.mark.parametrize("records", [0, 10])
def test_aflush_without_a_loop_turn(tmp_path: Path, records: int) -> None:
    """aflush in a fresh asyncio.run after records written without a loop."""
    import asyncio

    path = tmp_path / "app.log"
    handler = AsyncFileHandler(path)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger(f"aflush-{records}")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    for i in range(records):
        log.info("rec %d", i)  # no loop: written at once

    async def main() -> None:
        log.info("rec %d", records)
        await handler.aflush()
        assert record_numbers(path) == list(range(records + 1))
        await handler.aclose()

    asyncio.run(main())
    log.removeHandler(handler)
