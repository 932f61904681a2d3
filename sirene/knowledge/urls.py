from __future__ import annotations

from django.urls import path

from sirene.knowledge import views

app_name = "knowledge"
urlpatterns = [
    path("", views.problem_list, name="list"),
    path("new/", views.problem_new, name="new"),
    path("import/", views.problem_import, name="import"),
    path("export/", views.problem_export, name="export"),
    path("<int:problem_id>/", views.problem_detail, name="detail"),
    path("<int:problem_id>/edit/", views.problem_edit, name="edit"),
    path("<int:problem_id>/delete/", views.problem_delete, name="delete"),
    path("suggestions/<int:suggestion_id>/<str:decision>/", views.suggestion_decide, name="decide"),
    path("cases/<int:case_id>/recompute/", views.case_recompute, name="recompute"),
]
