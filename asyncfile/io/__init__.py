"""The file objects, layer by layer (private: users import them from
:mod:`asyncfile`).

- ``_base``: io's argument conversions and ``IOBase``, shared by every layer;
- ``_raw``: the raw layer, ``AsyncFileIO`` over a descriptor and ``FileIO``;
- ``_buffered``: the buffered layer, ``BufferedReader``, ``BufferedWriter``
  and ``BufferedRandom``;
- ``_text``: the text layer, ``TextIOWrapper``;
- ``_locks``: the lock that serialises the calls on one file object stack;
- ``_cancellation``: what a cancelled call leaves behind (a write that may
  be in the kernel completes; the cancellation arrives after).
"""
