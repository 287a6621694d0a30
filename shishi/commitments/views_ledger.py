"""(to be built)"""

from django.contrib.auth.decorators import login_required
from django.http import Http404


@login_required
def import_view(request, *args, **kwargs):
    raise Http404


@login_required
def export_view(request, *args, **kwargs):
    raise Http404
