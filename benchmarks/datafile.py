"""The data files the cases read, and the storage facts their numbers depend on.

A data file (random bytes, or text lines for ``file-lines``) is created once
per run and size, then page-cached. The device
cases (``O_DIRECT``, cold page cache) also need to know that the file system
sits on a block device, and the cold case needs to drop the page cache.
"""

from __future__ import annotations

import mmap
import os
import random
import time
from pathlib import Path

CHUNK = 1 << 20
DROP_CACHES = Path("/proc/sys/vm/drop_caches")
REPORTING_PASSES = Path("/sys/module/page_reporting/parameters/passes")
"""How many free page reporting passes the guest kernel has run, on kernels
that count them (this machine's does; mainline has only ``page_reporting_order``)."""
MEMORY_FILESYSTEMS = frozenset({"tmpfs", "ramfs", "devtmpfs", "hugetlbfs"})
DISK_FILESYSTEMS = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs"})
"""File systems taken as device-backed even when ``st_dev`` names no block
device (btrfs reports an anonymous device number)."""


def create(directory: Path, size: int, seed: int) -> Path:
    """Write ``size`` bytes of seeded random data, fsync, and read it back.

    The fsync leaves no dirty pages for writeback to flush during a
    measurement; the read-back makes sure every page is in the page cache.
    Files of different sizes from one seed share their common prefix.
    """
    path = directory / f"data-{size >> 20}MiB.bin"
    rng = random.Random(seed)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        for offset in range(0, size, CHUNK):
            os.pwrite(fd, rng.randbytes(min(CHUNK, size - offset)), offset)
        os.fsync(fd)
    finally:
        os.close(fd)
    warm(path)
    return path


LINE_CHARACTERS = bytes(range(0x20, 0x7F))
"""What :func:`create_lines` makes lines of: printable ASCII and space."""


def create_lines(
    directory: Path, count: int, seed: int, shortest: int = 40, longest: int = 80
) -> Path:
    """Write ``count`` seeded ASCII lines (UTF-8 text), fsync, read back.

    Each line is ``shortest`` to ``longest`` bytes long, newline included
    (uniformly, so about their mean on average), of printable ASCII; the
    same ``count`` and ``seed`` give the same file.
    """
    path = directory / f"lines-{count}.txt"
    rng = random.Random(seed)
    table = bytes(LINE_CHARACTERS[i % len(LINE_CHARACTERS)] for i in range(256))
    lengths = [rng.randint(shortest - 1, longest - 1) for _ in range(count)]
    characters = rng.randbytes(sum(lengths)).translate(table)
    lines = []
    start = 0
    for length in lengths:
        lines.append(characters[start : start + length])
        start += length
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb", closefd=False) as f:
            f.write(b"\n".join(lines) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    warm(path)
    return path


def create_tree(directory: Path, count: int, size: int, seed: int) -> Path:
    """A new directory of ``count`` files of ``size`` seeded random bytes each.

    The files are named ``00000.bin``, ``00001.bin``, ... (zero-padded to the
    same width, so that sorted names are in creation order) and hold
    consecutive ``size``-byte pieces of one seeded random stream: the same
    arguments give the same files. Written, then ``os.sync()`` (one flush
    rather than ``count`` fsyncs) and read back into the page cache.
    """
    path = directory / f"files-{count}x{size}"
    path.mkdir()
    rng = random.Random(seed)
    width = len(str(max(0, count - 1)))
    for number in range(count):
        name = path / f"{number:0{width}d}.bin"
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, rng.randbytes(size))
        finally:
            os.close(fd)
    os.sync()
    warm_tree(path)
    return path


def create_entries(directory: Path, count: int) -> Path:
    """A new directory holding ``count`` empty files (``entry-000000``, ...).

    Only the names matter to a listing; ``os.sync()`` leaves no metadata to
    write back during a measurement.
    """
    path = directory / f"entries-{count}"
    path.mkdir()
    width = len(str(max(0, count - 1)))
    for number in range(count):
        fd = os.open(
            path / f"entry-{number:0{width}d}",
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
            0o600,
        )
        os.close(fd)
    os.sync()
    warm_tree(path)
    return path


def warm_tree(path: Path) -> int:
    """Cache a directory: its entries, every entry's inode, every file's data.

    Returns the bytes of its regular files (it does not descend).
    """
    total = 0
    with os.scandir(path) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_size:
                total += warm(Path(entry.path))
    return total


def warm(path: Path) -> int:
    """Read the whole file once (into the page cache); return its size."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        for offset in range(0, size, CHUNK):
            os.pread(fd, CHUNK, offset)
    finally:
        os.close(fd)
    return size


def read_past_the_page_cache(path: Path) -> None:
    """Read the whole file once with ``O_DIRECT``, as the ``direct`` case does.

    On a VM whose disk is a file on the host, the host's page cache holds
    what was read or written lately, and reading anything else is many times
    slower: fio's random sequence, read after minutes of other cases, once
    went from 1,400 to 70,000 IOPS over a minute of repetitions while the
    contenders' own sequence read at 75,000 from the start. After this pass,
    every contender and fio find the same blocks equally near.
    """
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT | os.O_CLOEXEC)
    try:
        with mmap.mmap(-1, CHUNK) as buffer:  # page-aligned, as O_DIRECT needs
            offset = 0
            while count := os.preadv(fd, [buffer], offset):
                offset += count
    finally:
        os.close(fd)


def filesystem_type(path: Path) -> str:
    """File system type of the mount holding ``path`` (``/proc/self/mountinfo``)."""
    target = str(path.resolve())
    best, best_type = "", "unknown"
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as mounts:
            for line in mounts:
                fields = line.split()
                mount_point = fields[4].replace("\\040", " ")
                fs_type = fields[fields.index("-") + 1]
                inside = target == mount_point or target.startswith(
                    mount_point.rstrip("/") + "/"
                )
                if inside and len(mount_point) >= len(best):
                    best, best_type = mount_point, fs_type
    except (OSError, ValueError, IndexError):
        pass
    return best_type


def block_device(path: Path) -> str | None:
    """Name of the block device behind ``path``'s file system (``vda``), if any."""
    try:
        dev = os.stat(path).st_dev
        uevent = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}/uevent")
        for line in uevent.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key == "DEVNAME":
                return value
    except OSError:
        pass
    return None


def describe_storage(path: Path) -> str:
    """``ext4 on /dev/vda``, or just the file system type."""
    fs_type = filesystem_type(path)
    device = block_device(path)
    return f"{fs_type} on /dev/{device}" if device else fs_type


def storage_problem(path: Path) -> str | None:
    """Why reads under ``path`` would not reach a device, or ``None``."""
    fs_type = filesystem_type(path)
    fix = "pass --dir on a disk file system"
    if fs_type in MEMORY_FILESYSTEMS:
        return f"{path} is on {fs_type} (memory, not a device); {fix}"
    if block_device(path) is None and fs_type not in DISK_FILESYSTEMS:
        return f"{path} is on {fs_type}, with no block device behind it; {fix}"
    return None


def drop_page_cache() -> None:
    """``sync``, then drop the clean page cache, dentries and inodes.

    Writes ``3`` to ``/proc/sys/vm/drop_caches`` (root only); raises
    ``OSError`` if it cannot. Pages mapped by running processes stay.
    """
    os.sync()
    fd = os.open(DROP_CACHES, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, b"3\n")
    finally:
        os.close(fd)


def await_page_reporting(timeout: float = 5.0) -> bool:
    """Return right after the kernel's next free page reporting pass ends.

    In a VM with free page reporting (virtio-balloon), the guest hands freed
    memory back to the host in passes that start about 2 s after the memory
    is freed. Dropping the page cache frees hundreds of MiB, and the pass
    that reports them can stall the whole VM for 10-30 ms: perf showed every
    thread, of every backend and of caio alike, running many times slower
    while one ran. The next pass cannot start for 2 s
    (``PAGE_REPORTING_DELAY``), so a cold pass started now measures the
    contender, not the hypervisor.

    Returns ``False`` at once where the kernel does not count its passes,
    and after ``timeout`` s if none ran.
    """
    try:
        before = REPORTING_PASSES.read_text()
    except OSError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.005)
        if REPORTING_PASSES.read_text() != before:
            return True
    return False


def drop_caches_problem(probe: bool) -> str | None:
    """Why the page cache cannot be dropped here, or ``None``.

    With ``probe``, actually drop it once (the only sure test); without,
    only check that the file is writable by this process.
    """
    try:
        if probe:
            drop_page_cache()
        elif not os.access(DROP_CACHES, os.W_OK):
            return f"{DROP_CACHES} is not writable (needs root)"
    except OSError as exc:
        return f"cannot write {DROP_CACHES}: {exc.strerror or exc}"
    return None
