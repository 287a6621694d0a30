from django.apps import AppConfig


class Config(AppConfig):
    name = "shishi.demo"
    label = "demo"
