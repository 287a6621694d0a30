from django.apps import AppConfig


class Config(AppConfig):
    name = "shishi.jobs"
    label = "jobs"
