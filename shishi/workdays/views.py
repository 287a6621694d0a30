"""(to be built)"""

from django.contrib.auth.decorators import login_required
from django.http import Http404


@login_required
def calendar_page(request, *args, **kwargs):
    raise Http404
