from django.apps import AppConfig


class Config(AppConfig):
    name = "shishi.workdays"
    label = "workdays"
    menu = "shishi.workdays.views.menu"
