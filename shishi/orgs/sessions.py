"""The session engine (``SESSION_ENGINE``): Django's database sessions, kept in ``orgs.Session``
with the id of the login signed in, the way Django's documentation extends the database engine.

Knowing each session's login is what lets ``orgs.services.end_sessions`` end them all when a
login is disabled or its password is set, with one indexed delete instead of decoding every
session in the table.
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseStore


class SessionStore(DatabaseStore):
    @classmethod
    def get_model_class(cls):
        from .models import Session

        return Session

    def create_model_instance(self, data):
        obj = super().create_model_instance(data)
        try:
            obj.user_id = int(data.get("_auth_user_id"))
        except (TypeError, ValueError):
            obj.user_id = None
        return obj
