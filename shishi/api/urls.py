from django.urls import path, re_path

from .api import api
from .errors import not_found, shaped

# Not named app_name/namespace at module level: include() would read them as this module's own.
_patterns, _app, _namespace = api.urls
for _pattern in _patterns:
    _pattern.callback = shaped(_pattern.callback)

urlpatterns = [
    path("", (_patterns, _app, _namespace)),
    # Anything else under /api/v1/ answers in the API's error shape, not with an HTML page.
    re_path(r"^.*$", not_found, name="api-not-found"),
]
