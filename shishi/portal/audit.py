"""The audit log's signed checkpoints, in public: anyone may list them, save any of them, and
take the public key that checks them (``shishi/audit/checkpoints.py``).

Nothing here comes from the log's entries: a checkpoint holds positions, hashes and counts only.
These pages are not in the public page cache: a checkpoint moves no county's public generation
(writing one is not an audit entry), and the list costs two indexed reads.
"""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from shishi.audit import checkpoints
from shishi.audit.models import Checkpoint, signed_time
from shishi.lib import checkpoint as signing
from shishi.lib.parse import whole_number

PER_PAGE = 50


def _key() -> dict | None:
    public = checkpoints.public_key()
    if public is None:
        return None
    fp = signing.fingerprint(public)
    return {"fingerprint": fp, "grouped": signing.grouped(fp), "pem": signing.public_pem(public)}


def checkpoints_page(request: HttpRequest) -> HttpResponse:
    """Newest first, a page at a time by key (``?before=<number>``)."""
    qs = Checkpoint.objects.order_by("-number").defer("chains")
    before = whole_number(request.GET.get("before", ""))
    if before is not None:
        qs = qs.filter(number__lt=before)
    rows = list(qs[: PER_PAGE + 1])
    more = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    return render(
        request,
        "portal/audit/checkpoints.html",
        {
            "rows": rows,
            "key": _key(),
            "older": rows[-1].number if more else None,
            "example": rows[0] if rows else None,
        },
    )


def _get(number: int) -> Checkpoint:
    checkpoint = Checkpoint.objects.filter(number=number).first()
    if checkpoint is None:
        raise Http404
    return checkpoint


def checkpoint_file(request: HttpRequest, number: int) -> HttpResponse:
    """One checkpoint as the file anyone can save and give to ``verify-audit --checkpoint``."""
    checkpoint = _get(number)
    response = HttpResponse(
        json.dumps(checkpoints.document(checkpoint), ensure_ascii=False, indent=2) + "\n",
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{checkpoints.file_name(checkpoint)}"'
    return response


def public_key(request: HttpRequest) -> HttpResponse:
    key = _key()
    if key is None:
        raise Http404
    response = HttpResponse(key["pem"], content_type="application/x-pem-file; charset=us-ascii")
    response["Content-Disposition"] = 'attachment; filename="shishi-audit-public-key.pem"'
    return response


def checkpoints_data(request: HttpRequest) -> JsonResponse:
    """The open data: every checkpoint's summary and where its signed file is, oldest first, and
    the public key. One row a day: a few thousand rows after ten years."""
    rows = Checkpoint.objects.order_by("number").values_list(
        "number", "time", "entries", "chain_count", "previous", "key", "digest"
    )
    pattern = reverse("portal:checkpoint_file", args=[0]).replace("0.json", "{}.json")
    return JsonResponse(
        {
            "public_key": _key(),
            "checkpoints": [
                {
                    "number": number,
                    "time": signed_time(time),
                    "entries": entries,
                    "chains": chains,
                    "previous": previous,
                    "key": key,
                    "digest": digest,
                    "file": request.build_absolute_uri(pattern.format(number)),
                }
                for number, time, entries, chains, previous, key, digest in rows
            ],
        },
        json_dumps_params={"ensure_ascii": False},
    )
