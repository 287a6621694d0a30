"""``shishi create-admin USERNAME [--role ROLE]``: the first administrators, on the top of the tree.

Every other login is created in the app or by ``shishi import-orgs``; these have nobody to create
them. 三员分立 asks for three: the system administrator (the default), the security administrator
(``--role security_admin``, who grants every other role) and the audit administrator (``--role
audit_admin``). Each is made through the services, as the system, so it lands in the audit log
like any change, and the services refuse a second of the three on one login.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from shishi.orgs import services
from shishi.orgs.models import ADMIN_KINDS, Org, OrgKind, RoleKind, User

ENV_VARIABLE = "SHISHI_ADMIN_PASSWORD"
ATTEMPTS = 3


class Command(BaseCommand):
    # call_command(..., stdin=…) in tests, as Django's createsuperuser allows.
    stealth_options = ("stdin",)
    help = (
        "Create a system (or, with --role, security or audit) administrator on the top organisation of the tree (the province), "
        "creating that organisation too when --org-code and --org-name name a new one. The "
        "password is asked for twice at a terminal, or read from --password-file (- for standard "
        f"input) or the {ENV_VARIABLE} environment variable."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="the new login's username")
        parser.add_argument(
            "--name", default="", help="the administrator's name on their person record"
        )
        parser.add_argument(
            "--role",
            default=RoleKind.SYSADMIN,
            choices=sorted(ADMIN_KINDS),
            help="which of the three administrators (三员): sysadmin (accounts and settings, the "
            "default), security_admin (grants roles) or audit_admin (reads the audit log)",
        )
        parser.add_argument(
            "--org-code",
            default="",
            help="the top organisation's 12-digit division code; needed when there is none yet, "
            "or when several organisations stand at the top",
        )
        parser.add_argument(
            "--org-name",
            default="",
            help="the top organisation's name (e.g. 某某省), to create it when there is none yet",
        )
        parser.add_argument(
            "--password-file",
            dest="from_file",
            default="",
            help="read the password from the first line of this file; - reads standard input",
        )
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="never prompt: fail unless the password comes from a file or the environment",
        )

    def handle(self, *args, username, name, org_code, org_name, from_file, role, **options):
        self.stdin = options.get("stdin") or sys.stdin
        username = (username or "").strip()
        label = RoleKind(role).label
        name = (name or "").strip() or str(label).capitalize()
        if not username:
            raise CommandError(_("The username is required."))
        # Checked before anything else, and again by the service: running the command twice
        # must say so rather than create a second person.
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(
                _("The username %(name)s is taken; nothing was changed.") % {"name": username}
            )
        top = self._top_org(org_code.strip(), org_name.strip())
        password = self._password(username, name, from_file, options["interactive"])
        try:
            with transaction.atomic():
                if top is None:
                    top = services.create_org(
                        None,
                        parent=None,
                        kind=OrgKind.PROVINCE,
                        name=org_name.strip(),
                        code=org_code.strip(),
                    )
                    self.stdout.write(
                        _("Created the top organisation %(org)s (%(code)s).")
                        % {"org": top.name, "code": top.code}
                    )
                person = services.create_person(None, org=top, name=name)
                user = services.create_login(None, person, username=username, password=password)
                services.grant_role(None, user, top, role)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            _("Created the %(role)s %(username)s on %(org)s (%(code)s).")
            % {"role": label, "username": user.username, "org": top.name, "code": top.code}
        )

    def _top_org(self, code: str, name: str) -> Org | None:
        """The organisation to grant the role on, or None when it is to be created (checked
        here, before any password is asked for)."""
        tops = list(Org.objects.filter(parent__isnull=True).order_by("code"))
        if code:
            org = Org.objects.filter(code=code).first()
            if org is not None:
                if org.parent_id is not None:
                    raise CommandError(
                        _(
                            "%(org)s (%(code)s) is not at the top of the tree; a system "
                            "administrator is made on the top organisation."
                        )
                        % {"org": org.name, "code": code}
                    )
                return org
            if not name:
                raise CommandError(
                    _(
                        "There is no organisation with the code %(code)s. To create it at the top "
                        "of the tree, give its name with --org-name."
                    )
                    % {"code": code}
                )
            try:
                services.validate_code(OrgKind.PROVINCE, code)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            return None
        if len(tops) == 1:
            return tops[0]
        if not tops:
            raise CommandError(
                _(
                    "There is no organisation yet. Create the top of the tree with this command: "
                    "--org-code CODE --org-name NAME (your province and its 12-digit division "
                    "code), or import the tree first with shishi import-orgs FILE."
                )
            )
        raise CommandError(
            _("Several organisations stand at the top (%(codes)s); choose one with --org-code.")
            % {"codes": ", ".join(org.code for org in tops)}
        )

    def _password(self, username: str, name: str, from_file: str, interactive: bool) -> str:
        """The password from the file, the environment or the terminal, accepted by the policy."""
        # The user the policy compares the password with (UserAttributeSimilarityValidator),
        # as create_login builds it.
        user = User(username=username, first_name=name)
        if from_file or os.environ.get(ENV_VARIABLE):
            password = self._given_password(from_file)
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            return password
        if not (interactive and self.stdin.isatty()):
            raise CommandError(
                _(
                    "No password given. Run this at a terminal to be asked for one, or give it "
                    "with --password-file FILE (- for standard input) or in the %(variable)s "
                    "environment variable."
                )
                % {"variable": ENV_VARIABLE}
            )
        for _attempt in range(ATTEMPTS):
            try:
                password = getpass.getpass(_("Password: "))
                again = getpass.getpass(_("Password (again): "))
            except (EOFError, KeyboardInterrupt):
                raise CommandError(_("Cancelled; nothing was changed.")) from None
            if password != again:
                self.stderr.write(_("The two passwords differ. Try again."))
                continue
            try:
                validate_password(password, user)
            except ValidationError as exc:
                for message in exc.messages:
                    self.stderr.write(message)
                continue
            return password
        raise CommandError(
            _("No acceptable password after %(n)d tries; nothing was changed.") % {"n": ATTEMPTS}
        )

    def _given_password(self, from_file: str) -> str:
        if not from_file:
            return os.environ[ENV_VARIABLE]
        try:
            if from_file == "-":
                line = self.stdin.readline()
            else:
                with Path(from_file).open(encoding="utf-8") as fh:
                    line = fh.readline()
        except OSError as exc:
            raise CommandError(
                _("Cannot read the password file %(file)s: %(error)s")
                % {"file": from_file, "error": exc.strerror or exc}
            ) from None
        # Only the line break goes: spaces may belong to the password.
        password = line.rstrip("\r\n")
        if not password:
            raise CommandError(_("The password file %(file)s is empty.") % {"file": from_file})
        return password
