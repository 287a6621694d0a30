from django.apps import AppConfig


class Config(AppConfig):
    name = "shishi.orgs"
    label = "orgs"
