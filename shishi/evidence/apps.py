from django.apps import AppConfig


class Config(AppConfig):
    name = "shishi.evidence"
    label = "evidence"
