from django.apps import AppConfig


class Config(AppConfig):
    name = "shishi.portal"
    label = "portal"
