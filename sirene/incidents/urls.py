from __future__ import annotations

from django.urls import path

from sirene.incidents import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
    path("<int:incident_id>/", views.incident_detail, name="detail"),
    path("<int:incident_id>/ack/", views.incident_ack, name="ack"),
    path("<int:incident_id>/resolve/", views.incident_resolve, name="resolve"),
    path("<int:incident_id>/resolve/preview/", views.incident_resolve_preview, name="resolve_preview"),
    path("<int:incident_id>/title/", views.incident_rename, name="rename"),
    path("<int:incident_id>/publish/", views.incident_publish, name="publish"),
    path("<int:incident_id>/test-check/", views.incident_test_check, name="test_check"),
    path("<int:incident_id>/reopen/", views.incident_reopen, name="reopen"),
    path("rules/dry-run/", views.rule_dry_run, name="rule_dry_run"),
    path("groups/<int:group_id>/", views.group_detail, name="group"),
    path("groups/<int:group_id>/merge/", views.group_merge, name="group_merge"),
    path("groups/<int:group_id>/split/", views.group_split, name="group_split"),
    path("cases/<int:case_id>/move/", views.case_move, name="case_move"),
]
