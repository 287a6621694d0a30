from django.urls import path

from . import views, views_ledger

app_name = "orgs"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("search/", views.search, name="search"),
    path("import/", views_ledger.import_view, name="import"),
    path("export.xlsx", views_ledger.export_view, name="export"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.org_edit, name="edit"),
    path("<int:pk>/new/", views.org_new, name="new"),
    path("<int:pk>/move/", views.org_move, name="move"),
    path("<int:pk>/people/new/", views.person_new, name="person_new"),
    path("people/<int:pk>/", views.person_detail, name="person"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/login/", views.person_login, name="person_login"),
    path("people/<int:pk>/role/", views.person_role, name="person_role"),
    path("people/<int:pk>/active/", views.person_active, name="person_active"),
    path("password/", views.password_change, name="password"),
    path("roles/<int:pk>/revoke/", views.role_revoke, name="role_revoke"),
    path("roles/rules/", views.grant_rules, name="grant_rules"),
]
