"""asyncfile.os, asyncfile.os.path and asyncfile.shutil against os, os.path
and shutil: random call sequences (tests/fsdiff.py) give the same values,
the same exceptions (type, errno, filenames, words) and the same tree.

Each run is a child interpreter, so that it can take a backend of its own
(``CAIO_IMPL``) or run as an unprivileged user (we are root, for whom no
permission is ever refused).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backends import Backend, clean_env
from mounts import tmpfs
from platforms import LINUX, POSIX_FS

POSIX_FS.require()

FSDIFF = Path(__file__).with_name("fsdiff.py")
SEQUENCES = 300
NOBODY = 65534


@pytest.fixture
def scratch() -> Iterator[Path]:
    """Two empty trees, ``os`` and ``asyncfile``, any user may enter."""
    root = Path(tempfile.mkdtemp(prefix="asyncfile-fsdiff-"))
    root.chmod(0o755)
    for tree in ("os", "asyncfile"):
        (root / tree).mkdir()
    try:
        yield root
    finally:
        shutil.rmtree(root)


def run_sequences(
    root: Path, first: int, count: int, *uid: int, **env: str
) -> tuple[list[Any], set[str]]:
    """The sequences' differences, and the errno (or "NUL") of every error
    os gave in them: those the comparison covered."""
    run = subprocess.run(
        [
            sys.executable,
            str(FSDIFF),
            str(root),
            str(first),
            str(count),
            *map(str, uid),
        ],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    return report["differences"], set(report["errors"])


def explain(found: list[Any]) -> str:
    return f"{len(found)} sequences differ; the first:\n" + json.dumps(
        found[:2], indent=1, default=repr
    )


def test_random_calls_match_os_on_each_backend(backend: Backend, scratch: Path) -> None:
    """Missing parents, non-empty directories, names too long, loops of
    links, a NUL, paths through a file: os's outcomes hold each error, and
    asyncfile's match them."""
    found, errors = run_sequences(scratch, 0, SEQUENCES, CAIO_IMPL=backend.name)
    assert not found, explain(found)
    wanted = {
        errno.ENOENT,
        errno.ENOTEMPTY,
        errno.ENAMETOOLONG,
        errno.ELOOP,
        errno.ENOTDIR,
        errno.EEXIST,
        errno.EISDIR,
    }
    assert {str(e) for e in wanted} | {"NUL"} <= errors


def test_random_calls_match_os_as_an_unprivileged_user(scratch: Path) -> None:
    """Permissions refused (EACCES) where the sequences chmod a directory
    or a file: the child drops to the user nobody."""
    if os.geteuid() != 0:
        pytest.skip("changing to the user nobody needs root")
    found, errors = run_sequences(scratch, 1000, SEQUENCES, NOBODY)
    assert not found, explain(found)
    assert str(errno.EACCES) in errors


@LINUX.mark
def test_random_calls_match_os_across_devices(scratch: Path) -> None:
    """Renames and links onto another file system (a tmpfs mounted in each
    tree): EXDEV as os raises it; copies and rmtree across it."""
    with contextlib.ExitStack() as mounts:
        for tree in ("os", "asyncfile"):
            mounts.enter_context(tmpfs(scratch / tree / "mnt", "4m"))
        found, errors = run_sequences(scratch, 2000, SEQUENCES)
    assert not found, explain(found)
    assert str(errno.EXDEV) in errors
