"""The file objects that ``asyncfile.open()`` stacks, one module per layer,
from the bottom up, as CPython splits ``io`` (``Modules/_io`` in C,
``Lib/_pyio.py`` in Python):

- ``_locks``: the lock that serialises the calls on one file object stack
  (one lock, the raw file's, shared by the layers over it);
- ``_cancellation``: what a cancelled call leaves behind (a write that may
  be in the kernel completes; the cancellation arrives after);
- ``_base``: io's argument conversions and ``IOBase``, shared by every layer
  (``Modules/_io/iobase.c``);
- ``_raw``: the raw layer, ``AsyncFileIO`` (unlocked, for the layers above)
  and the public ``FileIO`` (``Modules/_io/fileio.c``);
- ``_buffered``: the buffered layer, ``BufferedReader``, ``BufferedWriter``
  and ``BufferedRandom`` (``Modules/_io/bufferedio.c``);
- ``_text``: the text layer, ``TextIOWrapper`` (``Modules/_io/textio.c``).

A module imports only the ones listed before it.  The raw, buffered and text
classes derive from the C base types of ``asyncfile._speedups`` that declare
their state, or, without it, from their module's ``__slots__`` twin of that
type.  The package re-exports nothing: the public
classes are imported from :mod:`asyncfile` (or :mod:`asyncfile.file`), where
their ``__module__`` points.
"""
