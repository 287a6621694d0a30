from django.apps import AppConfig


class Config(AppConfig):
    name = "shishi.orgs"
    label = "orgs"
    role_permissions = "shishi.orgs.access.ROLE_PERMISSIONS"
    notices = "shishi.orgs.notices.NOTICES"
    menu = "shishi.orgs.views.menu"
