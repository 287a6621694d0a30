from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

from shishi.orgs.views import LoginView, LogoutView
from shishi.ratelimit import limit_form


def livez(request):
    """Does nothing: the framework's floor in benchmarks, and a liveness probe (nginx and
    gunicorn serve) that needs no database."""
    return HttpResponse("ok", content_type="text/plain")


def healthz(request):
    """A liveness probe for operators, and the framework's floor in benchmarks: one query that
    proves the database answers. 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unreachable", status=503, content_type="text/plain")
    return HttpResponse("ok: database answers", content_type="text/plain")


urlpatterns = [
    path("", include("shishi.portal.urls")),
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    # Without a CSRF token: choosing a language changes nothing but a cookie, and a token in the
    # switcher would make every public page personal, so no page could be cached (pagecache.py).
    # A public form: its submissions are counted per address (RATE_LIMIT_FORMS).
    path("language/", csrf_exempt(limit_form()(set_language)), name="set_language"),
    path("work/", include("shishi.workspace.urls")),
    path("work/notifications/", include("shishi.notifications.urls")),
    path("work/tokens/", include("shishi.api.urls_tokens")),
    path("work/account/two-factor/", include("shishi.twofactor.urls")),
    path("work/orgs/", include("shishi.orgs.urls")),
    path("work/commitments/", include("shishi.commitments.urls")),
    path("work/calendar/", include("shishi.workdays.urls")),
    path("api/v1/", include("shishi.api.urls")),
]
