"""(to be built)"""

from django.http import Http404


def programmes(request):
    raise Http404


def programme(request, programme):
    raise Http404


def commitment(request, programme, number):
    raise Http404


def changes(request, programme):
    raise Http404


def history(request, programme):
    raise Http404


def evidence(request, pk):
    raise Http404
