"""A list that lives in a temporary file: what a two-phase import keeps between its phases.

An import checks every row before it writes any, so what it decided about each row must wait for
the write. Kept in memory, a 100,000-row file holds hundreds of MiB until its end; a ``Spill``
keeps one batch in memory and the rest pickled in an anonymous temporary file (removed by the
operating system when closed, even if the process dies), so memory stays flat with the rows.

Objects shared by many rows (an organisation, a category) would be pickled once per batch and come
back as copies; give them as ``shared`` and each row refers to the one object instead.
"""

from __future__ import annotations

import copyreg
import io
import itertools
import pickle
import tempfile
import weakref
from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

BATCH = 1000  # items pickled at a time

# The shared objects of each open spill, by its token: what a pickled reference resolves to.
_OPEN: dict[int, list[Any]] = {}
_tokens = itertools.count()


def _shared(token: int, index: int) -> Any:
    return _OPEN[token][index]


class Spill(Generic[T]):
    """Append in order, then read back in order as often as needed (``batches`` or iteration).

    Items read back from the file are copies, and those of the last batch, still in memory, are
    the appended objects themselves: change neither expecting the spill to follow. To keep a
    decision about an item, append the changed item to another spill. ``close`` (or ``with``)
    removes the file.
    """

    def __init__(self, shared: Iterable[Any] = (), batch: int = BATCH):
        self._objects: list[Any] = []
        self._ids: dict[int, int] = {}
        self._table: dict[type, Any] = {}
        self._token = next(_tokens)
        # A spill dropped without close() still lets go of its shared objects.
        weakref.finalize(self, _OPEN.pop, self._token, None)
        for obj in shared:
            self.share(obj)
        self._batch = batch
        self._buffer: list[T] = []
        self._file: Any = None
        self._ends: list[int] = []  # the file offset after each pickled batch
        self._len = 0

    def share(self, obj: Any) -> None:
        """Refer to ``obj`` itself, not a copy, in the items appended from now on."""
        if obj is None or id(obj) in self._ids:
            return
        self._ids[id(obj)] = len(self._objects)
        self._objects.append(obj)
        # Pickled by a reducer for its class (looked up only for objects of classes pickle has
        # no fast path for, unlike ``persistent_id``, which runs for every string and number).
        self._table.setdefault(type(obj), self._reduce)

    def _reduce(self, obj: Any) -> Any:
        index = self._ids.get(id(obj))
        if index is None:  # an object of a shared class that is not itself shared: a copy
            return obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
        return _shared, (self._token, index)

    def append(self, item: T) -> None:
        self._buffer.append(item)
        self._len += 1
        if len(self._buffer) >= self._batch:
            self._flush()

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)

    def _flush(self) -> None:
        if not self._buffer:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
            _OPEN[self._token] = self._objects
        self._file.seek(0, io.SEEK_END)
        pickler = pickle.Pickler(self._file, protocol=pickle.HIGHEST_PROTOCOL)
        if self._table:
            pickler.dispatch_table = {**copyreg.dispatch_table, **self._table}
        pickler.dump(self._buffer)
        self._ends.append(self._file.tell())
        self._buffer = []

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def batches(self) -> Iterator[list[T]]:
        """The items, a batch at a time, in the order they were appended."""
        start = 0
        for end in list(self._ends):
            self._file.seek(start)
            yield pickle.loads(self._file.read(end - start))  # noqa: S301 - our own file
            start = end
        if self._buffer:
            yield list(self._buffer)

    def __iter__(self) -> Iterator[T]:
        for batch in self.batches():
            yield from batch

    def close(self) -> None:
        _OPEN.pop(self._token, None)
        if self._file is not None:
            self._file.close()
            self._file = None
        self._buffer = []
        self._ends = []
        self._len = 0

    def __enter__(self) -> Spill[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
