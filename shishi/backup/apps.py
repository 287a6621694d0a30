from django.apps import AppConfig


class Config(AppConfig):
    name = "shishi.backup"
    label = "backup"
