from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from shishi.pagecache import public_page

from . import commitments
from .api import api
from .common import not_found, shaped

# Public reads of every mechanism, by URL name: the page cache serves them, keyed on the county
# each shows (shishi/pagecache.py).
PUBLIC_PAGES = {**commitments.PUBLIC_PAGES}

# Not named app_name/namespace at module level: include() would read them as this module's own.
_patterns, _app, _namespace = api.urls
for _pattern in _patterns:
    _pattern.callback = shaped(_pattern.callback)
    if _pattern.name in PUBLIC_PAGES:
        _pattern.callback = public_page(county=PUBLIC_PAGES[_pattern.name])(_pattern.callback)

urlpatterns = [
    path("", (_patterns, _app, _namespace)),
    # Anything else under /api/v1/ answers in the API's error shape, not with an HTML page.
    re_path(r"^.*$", csrf_exempt(not_found), name="api-not-found"),
]
