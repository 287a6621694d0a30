"""(to be built)"""

from django.contrib.auth.decorators import login_required
from django.http import Http404


@login_required
def programmes(request, *args, **kwargs):
    raise Http404


@login_required
def programme_new(request, *args, **kwargs):
    raise Http404


@login_required
def programme(request, *args, **kwargs):
    raise Http404


@login_required
def commitment_new(request, *args, **kwargs):
    raise Http404


@login_required
def publish(request, *args, **kwargs):
    raise Http404


@login_required
def commitment_edit(request, *args, **kwargs):
    raise Http404


@login_required
def accept_delivery(request, *args, **kwargs):
    raise Http404
