"""Import and export of organisations and people as an Excel workbook (see ``ledger``)."""

from __future__ import annotations

import tempfile

from django.contrib.auth.decorators import login_required
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from shishi.lib import xlsx

from . import access, ledger
from .forms import ImportForm

MAX_UPLOAD = 10 * 1024 * 1024
# Rows per sheet in one upload: a county's whole roster fits; a province's goes in parts.
MAX_ROWS = 100_000


class SizeLimitHandler(FileUploadHandler):
    """Stops reading an uploaded file once it passes ``limit`` bytes, so none of it is stored."""

    def __init__(self, request=None, limit: int = MAX_UPLOAD):
        super().__init__(request)
        self.limit = limit
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


@login_required
@csrf_exempt
def import_view(request: HttpRequest) -> HttpResponse:
    """Upload a workbook, check it (dry run) or import it; errors listed by row and column."""
    if not access.has_perm(request.user, access.MANAGE_ORGS):
        raise access.deny(request, "orgs.import", "-")
    # The handler must be in place before anything reads the body, the CSRF check included:
    # hence csrf_exempt here and csrf_protect on the function that does the work.
    limiter = SizeLimitHandler(request)
    request.upload_handlers.insert(0, limiter)
    return _import(request, limiter)


@csrf_protect
def _import(request: HttpRequest, limiter: SizeLimitHandler) -> HttpResponse:
    result = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if limiter.exceeded:
            form.is_valid()
            form.errors["file"] = form.error_class(
                [
                    _("The file is larger than %(size)d MB. Split it into several files.")
                    % {"size": MAX_UPLOAD // (1024 * 1024)}
                ]
            )
        elif form.is_valid():
            result = ledger.import_workbook(
                request.user,
                form.cleaned_data["file"],
                dry_run=form.cleaned_data["dry_run"],
                max_rows=MAX_ROWS,
            )
    else:
        form = ImportForm()
    return render(request, "orgs/import.html", {"form": form, "result": result})


@login_required
def export_view(request: HttpRequest) -> FileResponse:
    """The workbook of the organisations the user manages (or one subtree: ``?org=<pk>``)."""
    if not access.has_perm(request.user, access.MANAGE_ORGS):
        raise access.deny(request, "orgs.export", "-")
    root = None
    org_id = request.GET.get("org", "")
    if org_id:
        if not org_id.isdigit():
            raise access.deny(request, "orgs.org", org_id[:20])
        root = access.get_org(request, org_id, access.MANAGE_ORGS)
    # Written to a temporary file and streamed from it: the response never holds the workbook.
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        ledger.export_workbook(request.user, out, root=root)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    filename = f"shishi-{root.code if root else 'orgs'}-{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(
        out, as_attachment=True, filename=filename, content_type=xlsx.XLSX_CONTENT_TYPE
    )
