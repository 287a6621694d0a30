from django.apps import AppConfig
from django.db.models.signals import post_migrate


class Config(AppConfig):
    name = "shishi.api"
    label = "api"
    menu = "shishi.api.views.menu"
    role_permissions = "shishi.api.access.ROLE_PERMISSIONS"

    def ready(self):
        from shishi import ratelimit

        # With RATE_LIMIT_CACHE=database the counters need their table: made by every migrate.
        post_migrate.connect(ratelimit.create_table, sender=self)
