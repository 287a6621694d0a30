from django.urls import path

from . import audit, views

app_name = "workspace"
urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", audit.entries, name="audit"),
]
