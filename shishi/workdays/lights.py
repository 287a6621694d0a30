"""The traffic lights' names, shared by every page that shows one (computed in lib.workdays)."""

from django.utils.translation import gettext_lazy as _

from shishi.lib.workdays import Light

LIGHT_LABELS = {
    Light.ON_TRACK: _("on track"),
    Light.DUE_SOON: _("due soon"),
    Light.OVERDUE: _("overdue"),
    Light.DONE_ON_TIME: _("done on time"),
    Light.DONE_LATE: _("done late"),
}
