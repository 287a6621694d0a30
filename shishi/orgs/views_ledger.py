"""Import and export of organisations and people as a workbook (see ``ledger``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from shishi.ledger.views import download, upload
from shishi.lib.parse import whole_number

from . import access, ledger

# Rows per sheet in one upload: a county's whole roster fits; a province's goes in parts.
MAX_ROWS = 100_000


@login_required
@csrf_exempt  # the size limit comes before the CSRF check: see ledger.views.upload
def import_view(request: HttpRequest) -> HttpResponse:
    """Upload a workbook, check it (dry run) or import it; errors listed by row and column."""
    if not access.has_perm(request.user, access.MANAGE_ORGS):
        raise access.deny(request, "orgs.import", "-")

    def run(upload_file, dry_run):
        return ledger.import_workbook(
            request.user, upload_file, dry_run=dry_run, max_rows=MAX_ROWS, name=upload_file.name
        )

    return upload(request, "orgs/import.html", {}, run)


@login_required
def export_view(request: HttpRequest) -> HttpResponse:
    """The workbook of the organisations the user manages (or one subtree: ``?org=<pk>``)."""
    if not access.has_perm(request.user, access.MANAGE_ORGS):
        raise access.deny(request, "orgs.export", "-")
    root = None
    org_id = request.GET.get("org", "")
    if org_id:
        if whole_number(org_id) is None:
            raise access.deny(request, "orgs.org", org_id[:20])
        root = access.get_org(request, org_id, access.MANAGE_ORGS)
    filename = f"shishi-{root.code if root else 'orgs'}-{timezone.localdate():%Y%m%d}"
    return download(
        lambda out: ledger.export_workbook(request.user, out, root=root), "xlsx", filename
    )
