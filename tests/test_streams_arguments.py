"""Bad arguments to the streams and the log handler are refused by the
constructor, with the exception type open() raises for the same mistake,
before anything touches the file system: a file that exists keeps its bytes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from asyncfile import AsyncFileHandler, ChunkReader, LineStream, WriteBehindWriter

KEPT = b"precious bytes\n"


@pytest.fixture
def kept(tmp_path: Path) -> Path:
    path = tmp_path / "keep.txt"
    path.write_bytes(KEPT)
    return path


def open_raises(path: Path, mode: Any, **kwargs: Any) -> type[BaseException]:
    """The exception the built-in open() raises for these arguments."""
    try:
        open(path, mode, **kwargs).close()
    except Exception as exc:
        return type(exc)
    raise AssertionError(f"open() accepted mode={mode!r} {kwargs}")


@pytest.mark.parametrize(
    "mode", ["w", "a", "x", "w+", "wt", "z", "wbb", "rw", "bt", "+b", "b", 1, None]
)
def test_write_behind_bad_mode_leaves_the_file_alone(
    kept: Path, tmp_path: Path, mode: Any
) -> None:
    """Mode "w" used to truncate keep.txt, then fail at __aenter__."""
    expected = open_raises(tmp_path / "scratch", mode, buffering=0)
    with pytest.raises(expected):
        WriteBehindWriter(kept, mode)
    assert kept.read_bytes() == KEPT


def test_write_behind_read_only_mode(kept: Path) -> None:
    with pytest.raises(ValueError, match="does not write"):
        WriteBehindWriter(kept, "rb")
    assert kept.read_bytes() == KEPT


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"buffer_size": 0}, ValueError),
        ({"buffer_size": "big"}, TypeError),
        ({"buffer_size": 1.5}, TypeError),
        ({"fsync": "sometimes"}, ValueError),
    ],
)
def test_write_behind_bad_options(
    kept: Path, kwargs: dict[str, Any], expected: type[BaseException]
) -> None:
    with pytest.raises(expected):
        WriteBehindWriter(kept, "wb", **kwargs)
    assert kept.read_bytes() == KEPT


@pytest.mark.parametrize("target", [3, True, object(), 1.5])
def test_write_behind_bad_target(target: Any) -> None:
    with pytest.raises(TypeError, match="path or an open file object"):
        WriteBehindWriter(target)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"encoding": "no-such-codec"}, LookupError),
        ({"encoding": "hex"}, LookupError),  # a bytes-to-bytes codec
        ({"encoding": 5}, TypeError),
        ({"errors": "no-such-handler"}, LookupError),
        ({"errors": 5}, TypeError),
        ({"mode": "r"}, ValueError),
        ({"mode": 1}, TypeError),
        ({"maxBytes": "1000"}, TypeError),
        ({"backupCount": 1.5}, TypeError),
        ({"max_buffer": 0}, ValueError),
    ],
)
def test_handler_bad_arguments_leave_the_file_alone(
    kept: Path, kwargs: dict[str, Any], expected: type[BaseException]
) -> None:
    arguments = {"mode": "w", **kwargs}  # "w" would truncate it
    with pytest.raises(expected):
        AsyncFileHandler(kept, **arguments)
    assert kept.read_bytes() == KEPT


def test_handler_encoding_errors_match_open(kept: Path, tmp_path: Path) -> None:
    for encoding in ("no-such-codec", "hex"):
        with pytest.raises(LookupError) as by_open:
            open(tmp_path / "scratch", "w", encoding=encoding)  # noqa: SIM115
        with pytest.raises(LookupError) as by_handler:
            AsyncFileHandler(kept, "w", encoding=encoding)
        assert str(by_handler.value) == str(by_open.value)
    assert kept.read_bytes() == KEPT


def test_handler_positional_arguments_are_rotating_file_handlers(
    tmp_path: Path, logger: logging.Logger
) -> None:
    """``AsyncFileHandler("p.log", "a", 1000, 3)`` means maxBytes=1000 and
    backupCount=3, as for RotatingFileHandler (it used to take 1000 as the
    encoding, and every record then failed)."""
    path = tmp_path / "p.log"
    handler = AsyncFileHandler(path, "a", 1000, 3, "utf-8", False, "strict")
    assert (handler.maxBytes, handler.backupCount) == (1000, 3)
    assert (handler.encoding, handler.delay, handler.errors) == (
        "utf-8",
        False,
        "strict",
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    for i in range(100):
        logger.info("record %02d %s", i, "x" * 40)  # 51 bytes each: 19 a file
    handler.close()
    files = [Path(f"{path}.{n}") for n in (3, 2, 1)] + [path]
    assert [f.stat().st_size // 51 for f in files] == [19, 19, 19, 100 % 19]
    kept = [line for f in files for line in f.read_text().splitlines()]
    assert kept == [f"record {i:02d} {'x' * 40}" for i in range(100 - 62, 100)]


async def test_handler_delay_opens_with_the_first_record(
    tmp_path: Path, logger: logging.Logger
) -> None:
    path = tmp_path / "later.log"
    handler = AsyncFileHandler(path, delay=True)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    assert not path.exists()
    logger.info("first")
    await handler.aflush()
    assert path.read_text() == "first\n"
    await handler.aclose()


def test_handler_delay_without_records_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "never.log"
    AsyncFileHandler(path, delay=True).close()
    assert not path.exists()


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"chunk_size": 0}, ValueError),
        ({"chunk_size": 1.5}, TypeError),
        ({"depth": 0}, ValueError),
        ({"start": -1}, ValueError),
        ({"start": 10, "end": 5}, ValueError),
        ({"end": "5"}, TypeError),
    ],
)
def test_chunk_reader_bad_arguments(
    kept: Path, kwargs: dict[str, Any], expected: type[BaseException]
) -> None:
    with pytest.raises(expected):
        ChunkReader(kept, **kwargs)


@pytest.mark.parametrize(
    ("source", "expected"),
    [(3, TypeError), (object(), TypeError), ("a\0b", ValueError)],
)
def test_readers_refuse_a_bad_source_at_once(
    source: Any, expected: type[BaseException]
) -> None:
    with pytest.raises(expected):
        ChunkReader(source)
    with pytest.raises(expected):
        LineStream(source)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"encoding": "no-such-codec"}, LookupError),
        ({"encoding": "hex"}, LookupError),
        ({"encoding": 5}, TypeError),
        ({"encoding": "utf-8", "errors": "no-such-handler"}, LookupError),
        ({"encoding": "utf-8", "errors": 5}, TypeError),
        ({"errors": "strict"}, ValueError),  # binary lines have no errors
        ({"separator": "\n"}, TypeError),
        ({"encoding": "utf-8", "separator": b"\n"}, TypeError),
        ({"separator": b""}, ValueError),
        ({"max_line_length": 0}, ValueError),
        ({"max_line_length": 1.5}, TypeError),
        ({"chunk_size": 0}, ValueError),
    ],
)
def test_line_stream_bad_arguments(
    kept: Path, kwargs: dict[str, Any], expected: type[BaseException]
) -> None:
    with pytest.raises(expected):
        LineStream(kept, **kwargs)
