from django.apps import AppConfig


class Config(AppConfig):
    """Two-factor sign-in (双因素认证): TOTP with recovery codes, on django-otp."""

    name = "shishi.twofactor"
    label = "twofactor"
    notices = "shishi.twofactor.services.NOTICES"
    menu = "shishi.twofactor.views.menu"
