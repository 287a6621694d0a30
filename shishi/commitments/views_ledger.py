"""Import and export of a programme's list as an Excel or CSV ledger (see ``ledger``)."""

from __future__ import annotations

import tempfile

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from shishi.lib import xlsx
from shishi.orgs.access import deny
from shishi.orgs.views_ledger import MAX_UPLOAD, SizeLimitHandler

from . import ledger
from .access import MANAGE_COMMITMENTS, REVIEW_PROGRESS, get_programme
from .models import Programme

# Commitments in one upload: a province's list (13,000) fits.
MAX_ROWS = 20_000


class LedgerImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Excel (.xlsx) or CSV file"))
    dry_run = forms.BooleanField(
        label=gettext_lazy("Check only (dry run): write nothing"), required=False, initial=True
    )


@login_required
@csrf_exempt
def import_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a ledger into a draft programme: check it (dry run) or import it."""
    programme = get_programme(request, pk, MANAGE_COMMITMENTS)
    # The size limit must be in place before anything reads the body, the CSRF check included.
    limiter = SizeLimitHandler(request)
    request.upload_handlers.insert(0, limiter)
    return _import(request, programme, limiter)


@csrf_protect
def _import(request: HttpRequest, programme: Programme, limiter: SizeLimitHandler) -> HttpResponse:
    result = None
    published = programme.status != Programme.Status.DRAFT
    form = LedgerImportForm()
    if request.method == "POST":
        form = LedgerImportForm(request.POST, request.FILES)
        if limiter.exceeded:
            form.is_valid()
            form.errors["file"] = form.error_class(
                [
                    _("The file is larger than %(size)d MB. Split it into several files.")
                    % {"size": MAX_UPLOAD // (1024 * 1024)}
                ]
            )
        elif form.is_valid():
            upload = form.cleaned_data["file"]
            result = ledger.import_ledger(
                request.user,
                upload,
                programme=programme,
                name=upload.name,
                dry_run=form.cleaned_data["dry_run"],
                max_rows=MAX_ROWS,
            )
    return render(
        request,
        "commitments/import.html",
        {"programme": programme, "form": form, "result": result, "published": published},
    )


@login_required
def export_view(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The programme's list as .xlsx or .csv, streamed: memory does not grow with the list."""
    programme = get_programme(request, pk, (MANAGE_COMMITMENTS, REVIEW_PROGRESS))
    if fmt not in ("xlsx", "csv"):
        raise deny(request, "commitments.export", fmt[:10])
    exporter = ledger.export_ledger(request.user, programme, fmt)
    filename = f"shishi-{programme.year}-{programme.county.code}-{timezone.localdate():%Y%m%d}"
    if fmt == "csv":
        response = StreamingHttpResponse(
            exporter.iter_csv(), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response
    # Written to a temporary file and streamed from it: the response never holds the workbook.
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        exporter.write_xlsx(out)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return FileResponse(
        out, as_attachment=True, filename=f"{filename}.xlsx", content_type=xlsx.XLSX_CONTENT_TYPE
    )
