"""Log from many tasks (and a thread) through asyncfile.AsyncFileHandler.

    python examples/log_writer.py PATH [--records N] [--max-bytes B --backups K]

Every record is written in order behind the event loop; the handler writes
what is still buffered when ``asyncio.run`` returns.  Prints the records
emitted, the time taken and the worst delay of a 1 ms timer on the loop.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import threading
import time

from asyncfile import AsyncFileHandler


async def worker(log: logging.Logger, name: int, count: int) -> None:
    for i in range(count):
        log.info("task %d record %d", name, i)
        if i % 100 == 99:
            await asyncio.sleep(0)


async def heartbeat(worst: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + 0.001
        await asyncio.sleep(0.001)
        worst[0] = max(worst[0], loop.time() - due)


async def main(log: logging.Logger, records: int, tasks: int) -> float:
    worst = [0.0]
    stop = asyncio.Event()
    beat = asyncio.create_task(heartbeat(worst, stop))
    thread = threading.Thread(
        target=lambda: [log.info("thread record %d", i) for i in range(records // 10)]
    )
    thread.start()
    per_task = records // tasks
    await asyncio.gather(*(worker(log, n, per_task) for n in range(tasks)))
    await asyncio.to_thread(thread.join)
    stop.set()
    await beat
    return worst[0]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--max-bytes", type=int, default=0)
    parser.add_argument("--backups", type=int, default=0)
    args = parser.parse_args()
    handler = AsyncFileHandler(
        args.path, maxBytes=args.max_bytes, backupCount=args.backups
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log = logging.getLogger("example")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    started = time.perf_counter()
    worst = asyncio.run(main(log, args.records, args.tasks))
    elapsed = time.perf_counter() - started
    emitted = args.records // args.tasks * args.tasks + args.records // 10
    print(
        f"{emitted} records in {elapsed:.2f} s, worst loop lag {worst * 1e3:.1f} ms, "
        f"dropped {handler.dropped}"
    )
