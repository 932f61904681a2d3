from __future__ import annotations

from django.urls import path

from sirene.helpdesk import views

app_name = "helpdesk"
urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("templates/", views.templates, name="templates"),
    path("replies/<int:reply_id>/retry/", views.retry_reply, name="retry_reply"),
    path("replies/<int:reply_id>/mark-sent/", views.mark_reply_sent, name="mark_reply_sent"),
    path("incidents/<int:incident_id>/retry-failed/", views.retry_failed, name="retry_failed"),
    path(
        "incidents/<int:incident_id>/delay-notice/", views.incident_delay_notice, name="incident_delay_notice"
    ),
    path(
        "incidents/<int:incident_id>/customers/<int:case_id>/", views.incident_outreach, name="incident_outreach"
    ),
    path("outreach/<int:outreach_id>/retry/", views.outreach_retry, name="outreach_retry"),
    path("cases/<int:case_id>/delay-notice/", views.case_delay_notice, name="case_delay_notice"),
    path("cases/<int:case_id>/note/", views.case_note, name="case_note"),
    path("cases/<int:case_id>/reply/", views.case_reply, name="case_reply"),
    path("cases/<int:case_id>/refresh-tickets/", views.refresh_tickets, name="refresh_tickets"),
]
