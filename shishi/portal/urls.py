from django.urls import path

from . import audit, commitments, views

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
    # The audit log's signed checkpoints (audit.py).
    path("audit/checkpoints/", audit.checkpoints_page, name="checkpoints"),
    path("audit/checkpoints/<int:number>.json", audit.checkpoint_file, name="checkpoint_file"),
    path("audit/checkpoints.json", audit.checkpoints_data, name="checkpoints_data"),
    path("audit/public-key.pem", audit.public_key, name="audit_public_key"),
    path("evidence/<int:pk>/", commitments.evidence, name="evidence"),
    path("evidence/<int:pk>/thumbnail/", commitments.evidence_thumbnail, name="evidence_thumbnail"),
]
