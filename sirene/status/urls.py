from __future__ import annotations

from django.urls import path

from sirene.status import views

app_name = "status"
urlpatterns = [
    path("", views.page, name="page"),
    path("status.json", views.status_json, name="json"),
    path("embed.js", views.embed_js, name="embed"),
]
