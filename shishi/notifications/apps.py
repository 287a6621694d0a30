from django.apps import AppConfig


class Config(AppConfig):
    name = "shishi.notifications"
    label = "notifications"
    menu = "shishi.notifications.views.menu"
    notices = "shishi.notifications.notices.NOTICES"
