from django.contrib.auth.backends import ModelBackend

from shishi.lib.masking import is_mobile, normalize_phone

from .models import User
from .services import find_user_by_phone


class UsernameOrPhoneBackend(ModelBackend):
    """Sign in with the username or with the mobile number on the person's record."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        user = User.objects.filter(username__iexact=username.strip()).first()
        if user is None and is_mobile(normalize_phone(username)):
            user = find_user_by_phone(username)
        if user is None:
            # Spend the same time as a real check, so a username's existence does not show.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
