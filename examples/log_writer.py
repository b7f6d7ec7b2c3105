"""What asyncfile.AsyncFileHandler is for: logging.FileHandler and it, side by
side, in a busy service whose disk stalls; the event loop's worst lag with each.

    python examples/log_writer.py [DIR] [--stall SECONDS] [--seconds S] [--tasks N]

N tasks each log a record every millisecond for S seconds, with a 1 ms heartbeat
measuring the loop's worst lag: once through logging.FileHandler, once through
AsyncFileHandler, each to its own file in DIR.  In the middle of each run the file
system holding DIR is frozen for SECONDS (the FIFREEZE ioctl, what snapshot and
backup tools do; to a writer it looks like a stalled device or network disk).
FileHandler's write() waits out the stall on the loop's thread, so every task and
the heartbeat wait with it; AsyncFileHandler's records wait in its buffer (in the
kernel's queue, the write does) while the loop runs on.  Both files end up with
every record.

Freezing needs root and a file system of its own: without DIR, as root, the
example makes one (a small ext4 image on a loop device, in a temporary directory)
and removes it at the end.  Without root, or with --stall 0, it runs without a
stall and says so: the two lags are then alike, since writing to the page cache
takes microseconds either way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asyncfile import AsyncFileHandler

FIFREEZE = 0xC0045877  # _IOWR('X', 119, int), linux/fs.h
FITHAW = 0xC0045878  # _IOWR('X', 120, int)


@dataclass
class Outcome:
    emitted: int
    in_file: int
    worst_lag: float


@contextlib.contextmanager
def scratch_file_system() -> Iterator[Path]:
    """A 64 MiB ext4 file system on a loop device, mounted in a temporary
    directory (root only), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="log-writer-") as top:
        image, mountpoint = Path(top) / "disk.img", Path(top) / "mnt"
        mountpoint.mkdir()
        with open(image, "wb") as disk:
            disk.truncate(64 << 20)
        subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
        subprocess.run(["mount", "-o", "loop", str(image), str(mountpoint)], check=True)
        try:
            yield mountpoint
        finally:
            subprocess.run(["umount", str(mountpoint)], check=False)


def freeze_later(directory: Path, after: float, seconds: float) -> threading.Thread:
    """Freeze the file system of ``directory`` after ``after`` seconds, for
    ``seconds``, from a thread of its own (the loop may be stuck meanwhile)."""

    import fcntl  # FIFREEZE is Linux's: main() checks the system first

    def freeze_then_thaw() -> None:
        time.sleep(after)
        fd = os.open(directory, os.O_RDONLY)
        try:
            fcntl.ioctl(fd, FIFREEZE, 0)
            try:
                time.sleep(seconds)
            finally:
                fcntl.ioctl(fd, FITHAW, 0)
        finally:
            os.close(fd)

    thread = threading.Thread(target=freeze_then_thaw)
    thread.start()
    return thread


async def heartbeat(worst: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + 0.001
        await asyncio.sleep(0.001)
        worst[0] = max(worst[0], loop.time() - due)


async def serve(
    log: logging.Logger, name: int, until: float, counts: list[int]
) -> None:
    loop = asyncio.get_running_loop()
    while loop.time() < until:
        log.info("task %d record %d", name, counts[name])
        counts[name] += 1
        await asyncio.sleep(0.001)


async def run(
    make_handler: Callable[[Path], logging.Handler],
    path: Path,
    *,
    seconds: float,
    stall: float,
    tasks: int,
) -> Outcome:
    handler = make_handler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log = logging.Logger(f"example-{path.name}", logging.INFO)
    log.addHandler(handler)
    worst = [0.0]
    stop = asyncio.Event()
    beat = asyncio.create_task(heartbeat(worst, stop))
    freezer = freeze_later(path.parent, seconds / 3, stall) if stall else None
    counts = [0] * tasks
    until = asyncio.get_running_loop().time() + seconds
    await asyncio.gather(*(serve(log, n, until, counts) for n in range(tasks)))
    stop.set()
    await beat
    if freezer is not None:
        await asyncio.to_thread(freezer.join)
    if isinstance(handler, AsyncFileHandler):
        await handler.aclose()
    else:
        handler.close()
    return Outcome(sum(counts), 0, worst[0])


def count_lines(path: Path) -> int:
    with open(path, "rb") as written:
        return written.read().count(b"\n")


def report(name: str, outcome: Outcome, extra: str = "") -> None:
    kept = (
        "all written"
        if outcome.in_file == outcome.emitted
        else f"{outcome.in_file} written"
    )
    print(
        f"{name:<27} {outcome.emitted:6d} records, {kept}, "
        f"worst loop lag {outcome.worst_lag * 1e3:.1f} ms{extra}"
    )


def main(directory: Path, stall: float, seconds: float, tasks: int) -> None:
    options: dict[str, Any] = {"seconds": seconds, "stall": stall, "tasks": tasks}
    if stall:
        print(
            f"the file system of {directory} is frozen for {stall:.2f} s "
            "in the middle of each run"
        )
    plain = asyncio.run(run(logging.FileHandler, directory / "file.log", **options))
    plain.in_file = count_lines(directory / "file.log")
    report("logging.FileHandler", plain)
    handlers: list[AsyncFileHandler] = []

    def make_async(path: Path) -> logging.Handler:
        handlers.append(AsyncFileHandler(path))
        return handlers[-1]

    behind = asyncio.run(run(make_async, directory / "async.log", **options))
    behind.in_file = count_lines(directory / "async.log")
    report("asyncfile.AsyncFileHandler", behind, f", dropped {handlers[0].dropped}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", type=Path)
    parser.add_argument("--stall", type=float, default=0.5)
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--tasks", type=int, default=10)
    args = parser.parse_args()
    if args.stall and not sys.platform.startswith("linux"):
        print(f"no stall: only Linux can freeze a file system, not {sys.platform}")
        args.stall = 0.0
    elif args.stall and os.geteuid() != 0:
        print("no stall: freezing a file system needs root (run with sudo)")
        args.stall = 0.0
    with contextlib.ExitStack() as stack:
        directory = args.dir
        if directory is None:
            if args.stall:
                try:
                    directory = stack.enter_context(scratch_file_system())
                except (OSError, subprocess.CalledProcessError) as exc:
                    print(f"no stall: cannot make a file system to freeze: {exc}")
                    args.stall = 0.0
            if directory is None:
                directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        elif args.stall and not os.path.ismount(directory):
            sys.exit(f"{directory} is not a mount point: freezing it would freeze / ")
        main(directory, args.stall, args.seconds, args.tasks)
