from __future__ import annotations

from django.urls import path

from sirene.troubleshooting import views

app_name = "troubleshooting"
urlpatterns = [
    path("my-cases/", views.my_cases, name="my_cases"),
    path("open-questions/", views.open_questions, name="open_questions"),
    path("overdue/", views.overdue, name="overdue"),
    path("reminders/<int:reminder_id>/dismiss/", views.dismiss_reminder, name="dismiss_reminder"),
    path("cases/<int:case_id>/backups/<int:backup_id>.json", views.download_backup, name="download_backup"),
    path("cases/<int:case_id>/<slug:action>/", views.case_action, name="action"),
]
