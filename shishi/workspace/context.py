from shishi.extensions import contributions


def shell(request):
    """The navigation of the signed-in workspace: every app's entries for this user (``menu`` on
    its AppConfig, see ``shishi.extensions``), in order. The shell knows no mechanism by name."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {"nav": []}
    entries = [entry for _label, menu in contributions("menu") for entry in menu(user)]
    entries.sort(key=lambda e: e.order)
    return {"nav": [(e.url, e.label, e.key) for e in entries]}
