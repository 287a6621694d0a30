from django.apps import AppConfig


class Config(AppConfig):
    name = "shishi.audit"
    label = "audit"
