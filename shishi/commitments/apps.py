from django.apps import AppConfig


class Config(AppConfig):
    name = "shishi.commitments"
    label = "commitments"
