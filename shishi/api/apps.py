from django.apps import AppConfig


class Config(AppConfig):
    name = "shishi.api"
    label = "api"
    menu = "shishi.api.views.menu"
    role_permissions = "shishi.api.access.ROLE_PERMISSIONS"
