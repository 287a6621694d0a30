"""Import and export of a programme's list as an Excel or CSV ledger (see ``ledger``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from shishi.ledger.views import download, upload
from shishi.orgs.access import deny

from . import ledger
from .access import MANAGE_COMMITMENTS, REVIEW_PROGRESS, get_programme
from .models import Programme

# Commitments in one upload: a province's list (13,000) fits.
MAX_ROWS = 20_000


@login_required
@csrf_exempt  # the size limit comes before the CSRF check: see ledger.views.upload
def import_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a ledger into a draft programme: check it (dry run) or import it."""
    programme = get_programme(request, pk, MANAGE_COMMITMENTS)

    def run(upload_file, dry_run):
        return ledger.import_ledger(
            request.user,
            upload_file,
            programme=programme,
            name=upload_file.name,
            dry_run=dry_run,
            max_rows=MAX_ROWS,
        )

    published = programme.status != Programme.Status.DRAFT
    context = {"programme": programme, "published": published}
    return upload(request, "commitments/import.html", context, run)


@login_required
def export_view(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The programme's list as .xlsx or .csv, streamed: memory does not grow with the list."""
    programme = get_programme(request, pk, (MANAGE_COMMITMENTS, REVIEW_PROGRESS))
    if fmt not in ("xlsx", "csv"):
        raise deny(request, "commitments.export", fmt[:10])
    exporter = ledger.export_ledger(request.user, programme, fmt)
    filename = f"shishi-{programme.year}-{programme.county.code}-{timezone.localdate():%Y%m%d}"
    return download(exporter, fmt, filename)
