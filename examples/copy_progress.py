"""Copy a file with a progress bar: ChunkReader in, WriteBehindWriter out.

    python examples/copy_progress.py SOURCE DEST [--chunk-kib 1024]

Reads run ahead of the writes and the writes run behind the reads, so the
copy keeps both sides busy while the event loop stays free (the bar is
redrawn by the loop, at most ten times a second, on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

import asyncfile


def draw(done: int, total: int, started: float, final: bool = False) -> None:
    width = 30
    fraction = done / total if total else 1.0
    bar = "#" * int(width * fraction)
    rate = done / max(time.perf_counter() - started, 1e-9) / 2**20
    end = "\n" if final else ""
    sys.stderr.write(
        f"\r[{bar:<{width}}] {fraction:6.1%} {done >> 20}/{total >> 20} MiB "
        f"{rate:7.1f} MiB/s{end}"
    )
    sys.stderr.flush()


async def copy(source: str, dest: str, chunk_size: int) -> int:
    total = os.stat(source).st_size
    started = time.perf_counter()
    last_draw = 0.0
    done = 0
    async with (
        asyncfile.ChunkReader(
            source, chunk_size=chunk_size, depth=4, reuse_buffers=True
        ) as chunks,
        asyncfile.WriteBehindWriter(dest, "wb", buffer_size=4 * chunk_size) as out,
    ):
        async for chunk in chunks:
            await out.write(chunk)  # copied into the writer's buffer
            done += len(chunk)
            now = time.perf_counter()
            if now - last_draw > 0.1:
                draw(done, total, started)
                last_draw = now
    draw(done, total, started, final=True)
    return done


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("dest")
    parser.add_argument("--chunk-kib", type=int, default=1024)
    args = parser.parse_args()
    copied = asyncio.run(copy(args.source, args.dest, args.chunk_kib * 1024))
    print(f"copied {copied} bytes")
