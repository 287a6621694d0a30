from django.urls import path

from . import views

app_name = "twofactor"

urlpatterns = [
    path("", views.setup, name="setup"),
    path("verify/", views.verify, name="verify"),
    path("logins/", views.logins, name="logins"),
    path("logins/<int:pk>/reset/", views.reset, name="reset"),
]
