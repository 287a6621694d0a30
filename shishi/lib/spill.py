"""A list that lives in a temporary file: what a two-phase import keeps between its phases.

An import checks every row before it writes any, so what it decided about each row must wait for
the write. Kept in memory, a 100,000-row file holds hundreds of MiB until its end; a ``Spill``
keeps one batch in memory and the rest pickled in an anonymous temporary file (removed by the
operating system when closed, even if the process dies), so memory stays flat with the rows.

Objects shared by many rows (an organisation, a category) would be pickled once per batch and come
back as copies; give them as ``shared`` and each row refers to the one object instead.
"""

from __future__ import annotations

import io
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

BATCH = 1000  # items pickled at a time


class _Pickler(pickle.Pickler):
    def __init__(self, file: Any, shared: dict[int, int]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.shared = shared

    def persistent_id(self, obj: Any) -> int | None:
        return self.shared.get(id(obj))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, shared: list[Any]):
        super().__init__(file)
        self.objects = shared

    def persistent_load(self, pid: Any) -> Any:
        return self.objects[pid]


class Spill(Generic[T]):
    """Append in order, then read back in order as often as needed (``batches`` or iteration).

    Items read back are copies: changing one does not change the spill. To keep a decision about
    an item, append the changed item to another spill. ``close`` (or ``with``) removes the file.
    """

    def __init__(self, shared: Iterable[Any] = (), batch: int = BATCH):
        self._objects = list(shared)
        self._ids = {id(o): i for i, o in enumerate(self._objects)}
        self._batch = batch
        self._buffer: list[T] = []
        self._file: Any = None
        self._ends: list[int] = []  # the file offset after each pickled batch
        self._len = 0

    def share(self, obj: Any) -> None:
        """Refer to ``obj`` itself, not a copy, in the items appended from now on."""
        if id(obj) not in self._ids:
            self._ids[id(obj)] = len(self._objects)
            self._objects.append(obj)

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
        self._file.seek(0, io.SEEK_END)
        _Pickler(self._file, self._ids).dump(self._buffer)
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
            yield _Unpickler(io.BytesIO(self._file.read(end - start)), self._objects).load()
            start = end
        if self._buffer:
            yield list(self._buffer)

    def __iter__(self) -> Iterator[T]:
        for batch in self.batches():
            yield from batch

    def close(self) -> None:
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
