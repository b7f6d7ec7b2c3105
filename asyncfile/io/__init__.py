"""The file objects, layer by layer (private: users import them from
:mod:`asyncfile`).

- ``_raw``: the raw layer, the unlocked ``AsyncFileIO`` over a descriptor;
- ``_buffered``: the buffered layer and, for now, ``IOBase`` and ``FileIO``;
- ``_locks``: the lock that serialises the calls on one file object stack;
- ``_cancellation``: what a cancelled call leaves behind (a write that may
  be in the kernel completes; the cancellation arrives after).
"""
