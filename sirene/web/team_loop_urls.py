from __future__ import annotations

from django.urls import path

from sirene.web import team_loop_views as views

app_name = "team_loop"
urlpatterns = [
    path("cases/<int:case_id>/same-problem/", views.same_problem, name="same_problem"),
    path("cases/<int:case_id>/open-incident/", views.open_for_case, name="open_for_case"),
    path("groups/<int:group_id>/open-incident/", views.open_for_group, name="open_for_group"),
    path("incidents/<int:incident_id>/split/", views.near_miss_split, name="near_miss_split"),
    path("incidents/<int:incident_id>/one-problem/", views.near_miss_keep, name="near_miss_keep"),
]
