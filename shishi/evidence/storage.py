"""Where uploaded files are written (STORAGES["default"]): Django's file system storage, writing
each file whole or not at all.

Django writes a file in place, so a write that fails half-way (a full disk) leaves half a photo
under its final name, and a reader may open a file still being written. Here each file is
written under a temporary name in its folder, flushed to disk, then linked to its name, which
is atomic and never replaces a file: a failed write leaves nothing behind.
"""

from __future__ import annotations

import os
import tempfile

from django.core.files.storage import FileSystemStorage
from django.core.files.utils import validate_file_name


class AtomicFileSystemStorage(FileSystemStorage):
    def _save(self, name, content):
        validate_file_name(name, allow_relative_path=True)
        directory = os.path.dirname(self.path(name))
        os.makedirs(directory, exist_ok=True)
        fd, draft = tempfile.mkstemp(dir=directory, prefix=".", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                self._write(fh, content)
                fh.flush()
                os.fsync(fh.fileno())
            # mkstemp makes the file readable by its owner only; FILE_UPLOAD_PERMISSIONS may widen it.
            if self.file_permissions_mode is not None:
                os.chmod(draft, self.file_permissions_mode)
            while True:
                try:
                    os.link(draft, self.path(name))
                    break
                except FileExistsError:
                    name = self.get_available_name(name)
        finally:
            os.unlink(draft)
        return os.path.relpath(self.path(name), self.location).replace("\\", "/")

    def _write(self, fh, content) -> None:
        """Write ``content`` to the open draft (a test's full disk fails here)."""
        for chunk in content.chunks():
            fh.write(chunk if isinstance(chunk, bytes) else chunk.encode())
