"""(to be built)"""

from django.contrib.auth.decorators import login_required
from django.http import Http404


@login_required
def adjustments(request, *args, **kwargs):
    raise Http404


@login_required
def adjustment_new(request, *args, **kwargs):
    raise Http404


@login_required
def adjustment(request, *args, **kwargs):
    raise Http404
