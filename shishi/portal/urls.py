from django.urls import path

from . import commitments, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    # The public list of commitments (commitments.py).
    path("commitments/", commitments.programmes, name="programmes"),
    path("commitments/<int:programme>/", commitments.programme, name="programme"),
    path("commitments/<int:programme>/<int:number>/", commitments.commitment, name="commitment"),
    path("commitments/<int:programme>/changes/", commitments.changes, name="changes"),
    path("commitments/<int:programme>/history/", commitments.history, name="history"),
    path("commitments/<int:programme>/data.<str:fmt>", commitments.data, name="data"),
    path("evidence/<int:pk>/", commitments.evidence, name="evidence"),
    path("evidence/<int:pk>/thumbnail/", commitments.evidence_thumbnail, name="evidence_thumbnail"),
]
