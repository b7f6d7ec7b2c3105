"""The file objects, layer by layer (private: users import them from
:mod:`asyncfile`).

- ``_locks``: the lock that serialises the calls on one file object stack,
  and what a cancelled call leaves behind.
"""
