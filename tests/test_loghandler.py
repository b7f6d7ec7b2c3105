"""AsyncFileHandler: order, other threads, overflow, rotation, shutdown."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from logchild import PROLOGUE

from asyncfile import AsyncFileHandler


def attach(log: logging.Logger, path: Path, **kwargs: object) -> AsyncFileHandler:
    handler = AsyncFileHandler(path, **kwargs)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    return handler


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


async def written(path: Path, count: int, timeout: float = 10.0) -> list[str]:
    """The file's lines once it holds ``count`` (or at ``timeout``): the
    writes run behind the loop, at the speed of a loaded machine's disk."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            got = lines(path)
        except FileNotFoundError:
            got = []
        if len(got) >= count or time.monotonic() > deadline:
            return got
        await asyncio.sleep(0.01)


@pytest.mark.every_loop
async def test_emit_never_awaits_and_keeps_order(
    tmp_path: Path, logger: logging.Logger
) -> None:
    path = tmp_path / "app.log"
    handler = attach(logger, path)
    for i in range(10_000):
        logger.info("record %d", i)
    assert handler._writer.written == 0  # all behind the loop so far
    assert await written(path, 10_000) == [f"record {i}" for i in range(10_000)]


@pytest.mark.every_loop
async def test_records_from_other_threads(
    tmp_path: Path, logger: logging.Logger
) -> None:
    path = tmp_path / "app.log"
    attach(logger, path)

    def work(name: str) -> None:
        for i in range(2000):
            logger.info("%s %d", name, i)

    threads = [threading.Thread(target=work, args=(f"t{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    logger.info("loop")
    for thread in threads:
        await asyncio.to_thread(thread.join)
    got = await written(path, 6001)
    assert len(got) == 6001
    for n in range(3):
        mine = [line for line in got if line.startswith(f"t{n} ")]
        assert mine == [f"t{n} {i}" for i in range(2000)]  # each thread in order


async def test_overflow_drops_and_says_so(
    tmp_path: Path, logger: logging.Logger
) -> None:
    path = tmp_path / "app.log"
    handler = attach(logger, path, max_buffer=1000)
    for i in range(200):  # 10 bytes each: 100 fit before the loop runs
        logger.info("rec %05d", i)
    assert handler.dropped == 100
    await handler._flush_in_loop()  # the buffer has room again
    logger.info("after")
    got = await written(path, 102)
    assert got[:100] == [f"rec {i:05d}" for i in range(100)]
    assert got[100] == "[asyncfile] 100 log records dropped: the buffer was full"
    assert got[101] == "after"


def test_rotation_like_rotating_file_handler(
    tmp_path: Path, logger: logging.Logger
) -> None:
    path = tmp_path / "app.log"
    attach(logger, path, maxBytes=100, backupCount=2)

    async def main() -> None:
        for i in range(30):
            logger.info("line %02d", i)  # 8 bytes each

    asyncio.run(main())
    for handler in logger.handlers:
        handler.close()
    files = [path, Path(f"{path}.1"), Path(f"{path}.2")]
    assert not Path(f"{path}.3").exists()
    assert all(f.stat().st_size < 100 for f in files)
    # The newest records are in the base file, contiguous across the backups.
    kept = lines(files[2]) + lines(files[1]) + lines(files[0])
    assert kept == [f"line {i:02d}" for i in range(30 - len(kept), 30)]
    assert len(lines(files[0])) >= 1


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode"):
        AsyncFileHandler(tmp_path / "x.log", mode="r")
    with pytest.raises(ValueError, match="max_buffer"):
        AsyncFileHandler(tmp_path / "x.log", max_buffer=0)
    with pytest.raises(FileNotFoundError):
        AsyncFileHandler(tmp_path / "no" / "x.log")


def test_closed_handler_reports_emits(tmp_path: Path, logger: logging.Logger) -> None:
    handler = attach(logger, tmp_path / "x.log")
    handler.close()
    errors: list[str] = []
    handler.handleError = lambda record: errors.append(record.getMessage())  # type: ignore[method-assign]
    logger.info("late")
    assert errors == ["late"]


# -- shutdown, in fresh interpreters -----------------------------------------------


SCRIPTS = {
    "asyncio.run returns": """
async def main():
    for i in range(30_000):
        log.info("r %d", i)
asyncio.run(main())
""",
    "records after the loop closed": """
async def main():
    for i in range(15_000):
        log.info("r %d", i)
asyncio.run(main())
for i in range(15_000, 30_000):
    log.info("r %d", i)
""",
    "loop closed by hand with records buffered": """
loop = asyncio.new_event_loop()
async def main():
    for i in range(30_000):
        log.info("r %d", i)
loop.run_until_complete(main())
loop.close()
""",
    "a thread logging while the loop runs": """
def work():
    for i in range(15_000, 30_000):
        log.info("r %d", i)
async def main():
    for i in range(15_000):
        log.info("r %d", i)
    thread = threading.Thread(target=work)
    thread.start()
    await asyncio.to_thread(thread.join)
asyncio.run(main())
""",
    "exit from inside the loop": """
async def main():
    for i in range(30_000):
        log.info("r %d", i)
    sys.exit(0)
asyncio.run(main())
""",
}


@pytest.mark.parametrize("scenario", list(SCRIPTS))
def test_nothing_lost_on_shutdown(tmp_path: Path, scenario: str) -> None:
    path = tmp_path / "app.log"
    code = textwrap.dedent(PROLOGUE) + textwrap.dedent(SCRIPTS[scenario])
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "destroyed" not in done.stderr, done.stderr
    got = lines(path)
    if scenario.startswith("a thread"):
        got = sorted(got, key=lambda line: int(line.split()[1]))
    assert got == [f"r {i}" for i in range(30_000)]


async def test_aclose_waits_for_every_record(
    tmp_path: Path, logger: logging.Logger
) -> None:
    path = tmp_path / "app.log"
    handler = attach(logger, path)
    for i in range(5000):
        logger.info("r %d", i)
    await handler.aclose()
    assert handler._writer._fd == -1
    assert lines(path) == [f"r {i}" for i in range(5000)]


def test_shutdown_from_another_thread_while_the_loop_runs(tmp_path: Path) -> None:
    """logging.shutdown() (holding the handler's lock) in the main thread
    waits for the loop running in another thread, which keeps logging."""
    path = tmp_path / "app.log"
    code = textwrap.dedent(PROLOGUE) + textwrap.dedent(
        """
        started = threading.Event()
        async def serve():
            for i in range(20_000):
                log.info("r %d", i)
            started.set()
            while True:
                await asyncio.sleep(0.001)
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_until_complete, args=(serve(),),
                         daemon=True).start()
        started.wait()
        logging.shutdown()
        with open(sys.argv[1]) as f:
            assert len(f.read().splitlines()) == 20_000, "not all written"
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert lines(path) == [f"r {i}" for i in range(20_000)]
