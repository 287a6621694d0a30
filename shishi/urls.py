from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

from shishi.orgs.views import LoginView


def healthz(request):
    """Does nothing: the framework's floor in benchmarks, and a liveness probe for operators."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", include("shishi.portal.urls")),
    path("healthz", healthz, name="healthz"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Without a CSRF token: choosing a language changes nothing but a cookie, and a token in the
    # switcher would make every public page personal, so no page could be cached (pagecache.py).
    path("language/", csrf_exempt(set_language), name="set_language"),
    path("work/", include("shishi.workspace.urls")),
    path("work/orgs/", include("shishi.orgs.urls")),
    path("work/audit/", include("shishi.audit.urls")),
    path("work/commitments/", include("shishi.commitments.urls")),
    path("work/calendar/", include("shishi.workdays.urls")),
    path("api/v1/", include("shishi.api.urls")),
]
