"""Serving a stored evidence file: the one way every mechanism's views and the portal do it.

A PDF may carry JavaScript (``/OpenAction``, ``/JS``), forms and links, and a browser's PDF viewer
runs some of it when the file opens in a tab. Every file that is not a photo is therefore sent as
a download (``Content-Disposition: attachment``), never shown inside the site's origin. Every file,
photos included, also carries ``Content-Security-Policy: sandbox``: should a browser render it
anyway (an old viewer, a type guessed from the content), it opens in a unique origin without
scripts, plugins or forms, and ``X-Content-Type-Options: nosniff`` stops it guessing.
"""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404

# The whole policy: no script, no plugin, no form, no same-origin access, whatever the file holds.
SANDBOX = "sandbox"


def stored_file(
    field: FieldFile, content_type: str, filename: str, *, max_age: int
) -> FileResponse:
    """The file in ``field`` as a response: a photo inline, anything else as a download; both
    sandboxed. ``max_age``: how long the reader's browser (only) may keep it."""
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    inline = content_type.startswith("image/")
    response = FileResponse(
        handle, content_type=content_type, filename=filename, as_attachment=not inline
    )
    response["Content-Security-Policy"] = SANDBOX
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = f"private, max-age={max_age}"
    return response
