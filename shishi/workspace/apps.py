from django.apps import AppConfig


class Config(AppConfig):
    name = "shishi.workspace"
    label = "workspace"
    menu = "shishi.workspace.shell.menu"
