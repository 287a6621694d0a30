"""(to be built)"""

from django.contrib.auth.decorators import login_required
from django.http import Http404


@login_required
def home(request, *args, **kwargs):
    raise Http404


@login_required
def commitment(request, *args, **kwargs):
    raise Http404


@login_required
def report(request, *args, **kwargs):
    raise Http404


@login_required
def review(request, *args, **kwargs):
    raise Http404


@login_required
def evidence(request, *args, **kwargs):
    raise Http404
