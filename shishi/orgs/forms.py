from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from shishi.lib.masking import is_mobile, normalize_phone

from .models import Gender, OrgKind, RoleKind, User
from .services import find_user_by_phone


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Username or mobile number"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    error_messages = {
        "invalid_login": _(
            "The username or mobile number and password do not match. After %(limit)s failed "
            "attempts the account is locked for a while."
        ),
        "inactive": _("This login is disabled."),
    }

    def clean_username(self):
        """The login's own username for any spelling of it (case, spaces, the mobile number in any
        format), so that django-axes counts failed attempts per login, not per spelling."""
        value = self.cleaned_data["username"].strip()
        user = User.objects.filter(username__iexact=value).first()
        if user is None and is_mobile(normalize_phone(value)):
            user = find_user_by_phone(value)
            if user is None:
                return normalize_phone(value)
        return user.get_username() if user else value.lower()

    def get_invalid_login_error(self):
        from django.conf import settings

        return forms.ValidationError(
            self.error_messages["invalid_login"],
            code="invalid_login",
            params={"limit": settings.AXES_FAILURE_LIMIT},
        )


class OwnPasswordForm(PasswordChangeForm):
    """A person's own password change, the old password checked through ``authenticate``: a
    wrong one counts like a failed sign-in (django-axes), so whoever holds a stolen session
    cannot guess the password without limit, and is locked out like anyone else."""

    def __init__(self, request, *args, **kwargs):
        self.request = request
        super().__init__(request.user, *args, **kwargs)

    def clean_old_password(self):
        old = self.cleaned_data["old_password"]
        if authenticate(self.request, username=self.user.get_username(), password=old) is None:
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Name or code"), max_length=100, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("any kind"))] + OrgKind.choices, required=False
    )
    within = forms.IntegerField(widget=forms.HiddenInput, required=False)


class OrgForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    short_name = forms.CharField(label=_("Short name"), max_length=50, required=False)
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("12 digits for a place; any unique code otherwise."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class NewOrgForm(OrgForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=OrgKind.choices)

    field_order = ["kind", "name", "short_name", "code"]


class MoveForm(forms.Form):
    new_parent_code = forms.CharField(label=_("Code of the new parent organisation"), max_length=32)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class PersonForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices)
    phone = forms.CharField(label=_("Mobile number"), max_length=20, required=False)
    is_party_member = forms.BooleanField(label=_("Party member"), required=False)
    position = forms.CharField(label=_("Position"), max_length=100, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class RoleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Role"), choices=RoleKind.choices)
    org_code = forms.CharField(label=_("On organisation (code)"), max_length=32)

    def __init__(self, *args, kinds, **kwargs):
        """``kinds``: the role kinds offered (those the grant table lets the user grant)."""
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, RoleKind(k).label) for k in kinds]


class LoginCreateForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
