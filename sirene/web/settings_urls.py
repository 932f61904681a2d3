from __future__ import annotations

from django.urls import path

from sirene.web import settings_views as views

app_name = "preferences"
urlpatterns = [
    path("", views.index, name="index"),
    path("general/", views.general_save, name="general"),
    path("rules/new/", views.rule_edit, name="rule_new"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule"),
    path("rules/<int:rule_id>/delete/", views.rule_delete, name="rule_delete"),
    path("people/new/", views.person_edit, name="person_new"),
    path("people/<int:person_id>/", views.person_edit, name="person"),
]
