from __future__ import annotations

from django.urls import path

from sirene.escalation import views

app_name = "escalation"
urlpatterns = [
    path("", views.index, name="index"),
    path("people/", views.person_save, name="person_save"),
    path("absences/", views.absence_add, name="absence_add"),
    path("on-call/", views.on_call_add, name="on_call_add"),
    path("on-call/<int:shift_id>/delete/", views.on_call_delete, name="on_call_delete"),
    path("absences/import/", views.absence_import, name="absence_import"),
    path("absences/<int:absence_id>/delete/", views.absence_delete, name="absence_delete"),
    path("policies/", views.policy_create, name="policy_create"),
    path("policies/<int:policy_id>/", views.policy_detail, name="policy"),
    path("policies/<int:policy_id>/steps/", views.step_add, name="step_add"),
    path("steps/<int:step_id>/", views.step_change, name="step_change"),
    path("incidents/<int:incident_id>/status-update/", views.status_update, name="status_update"),
    path("incidents/<int:incident_id>/ack/", views.acknowledge, name="ack"),
    path("incidents/<int:incident_id>/escalate-now/", views.escalate_now, name="escalate_now"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
]
