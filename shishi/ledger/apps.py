from django.apps import AppConfig


class Config(AppConfig):
    name = "shishi.ledger"
    label = "ledger"
