"""The upload page every ledger shares: a size limit enforced while the body is read, a form
with a dry-run box, and the result listed by sheet, row and column (``ledger/result.html``)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_protect

from shishi.lib import xlsx

from .exporter import Exporter
from .results import Result

MAX_UPLOAD = 10 * 1024 * 1024


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


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Excel (.xlsx) or CSV file"))
    dry_run = forms.BooleanField(
        label=gettext_lazy("Check only (dry run): write nothing"), required=False, initial=True
    )


def upload(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    run: Callable[[UploadedFile, bool], Result],
    form_class: type[forms.Form] = UploadForm,
) -> HttpResponse:
    """The upload page: on POST, ``run(file, dry_run)`` imports the file.

    Call it from a view marked ``csrf_exempt`` after the view's permission check: the size limit
    must be in place before anything reads the body, the CSRF check included, so the check runs
    here instead (``csrf_protect``).
    """
    limiter = SizeLimitHandler(request)
    request.upload_handlers.insert(0, limiter)
    return _upload(request, limiter, template, context, run, form_class)


@csrf_protect
def _upload(request, limiter, template, context, run, form_class) -> HttpResponse:
    result = None
    form = form_class()
    if request.method == "POST":
        form = form_class(request.POST, request.FILES)
        if limiter.exceeded:
            form.is_valid()
            form.errors["file"] = form.error_class(
                [
                    _("The file is larger than %(size)d MB. Split it into several files.")
                    % {"size": MAX_UPLOAD // (1024 * 1024)}
                ]
            )
        elif form.is_valid():
            result = run(form.cleaned_data["file"], form.cleaned_data["dry_run"])
    return render(request, template, {**context, "form": form, "result": result})


def download(exporter: Exporter | Callable[[Any], None], fmt: str, filename: str) -> HttpResponse:
    """An export as a download: CSV or JSON streamed row by row; xlsx written to a temporary file
    and streamed from it, so the response never holds the workbook. ``exporter`` is an
    ``Exporter`` or, for a workbook of several sheets, a function writing it to a file."""
    if fmt in ("csv", "json"):
        content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
        response = StreamingHttpResponse(exporter.iter_format(fmt), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
        return response
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        if isinstance(exporter, Exporter):
            exporter.write_xlsx(out)
        else:
            exporter(out)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return FileResponse(
        out, as_attachment=True, filename=f"{filename}.xlsx", content_type=xlsx.XLSX_CONTENT_TYPE
    )
