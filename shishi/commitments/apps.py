from django.apps import AppConfig


class Config(AppConfig):
    """Commitments (民生实事清单): what it brings to the shared parts (see shishi.extensions)."""

    name = "shishi.commitments"
    label = "commitments"
    role_permissions = "shishi.commitments.access.ROLE_PERMISSIONS"
    notices = "shishi.commitments.notices.NOTICES"
    deadlines = "shishi.commitments.lights.DEADLINES"
    menu = "shishi.commitments.shell.menu"
    desk = "shishi.commitments.shell.desk"
