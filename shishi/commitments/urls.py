from django.urls import path

from . import views, views_adjust, views_ledger, views_manage

app_name = "commitments"
urlpatterns = [
    # The unit's and the reviewer's pages (views.py).
    path("", views.home, name="home"),
    path("<int:pk>/", views.commitment, name="commitment"),
    path("<int:pk>/report/", views.report, name="report"),
    path("reports/<int:pk>/", views.review, name="review"),
    path("evidence/<int:pk>/", views.evidence, name="evidence"),
    path("evidence/<int:pk>/thumbnail/", views.evidence_thumbnail, name="evidence_thumbnail"),
    path("evidence/<int:pk>/public/", views.evidence_public, name="evidence_public"),
    # Programmes and the draft list (views_manage.py).
    path("programmes/", views_manage.programmes, name="programmes"),
    path("programmes/new/", views_manage.programme_new, name="programme_new"),
    path("programmes/<int:pk>/", views_manage.programme, name="programme"),
    path("programmes/<int:pk>/add/", views_manage.commitment_new, name="commitment_new"),
    path("programmes/<int:pk>/publish/", views_manage.publish, name="publish"),
    path("<int:pk>/edit/", views_manage.commitment_edit, name="commitment_edit"),
    path("<int:pk>/accept/", views_manage.accept_delivery, name="accept_delivery"),
    # Adjustments (views_adjust.py).
    path("adjustments/", views_adjust.adjustments, name="adjustments"),
    path(
        "programmes/<int:pk>/adjust/<str:kind>/", views_adjust.adjustment_new, name="adjustment_new"
    ),
    path("adjustments/<int:pk>/", views_adjust.adjustment, name="adjustment"),
    # The Excel ledger (views_ledger.py).
    path("programmes/<int:pk>/import/", views_ledger.import_view, name="import"),
    path("programmes/<int:pk>/export.<str:fmt>", views_ledger.export_view, name="export"),
]
