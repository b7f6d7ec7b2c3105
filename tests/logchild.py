"""The start of every child script that logs through an AsyncFileHandler.

The child gets the log file's path as ``sys.argv[1]``; the handler truncates
it and writes bare messages, one per line, through the logger ``log``.
"""

PROLOGUE = """
import asyncio, logging, os, signal, sys, threading
import asyncfile
from asyncfile import AsyncFileHandler
handler = AsyncFileHandler(sys.argv[1], mode="w")
handler.setFormatter(logging.Formatter("%(message)s"))
log = logging.getLogger("app")
log.addHandler(handler)
log.setLevel(logging.INFO)
"""
