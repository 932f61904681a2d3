from __future__ import annotations

from django.urls import path

from sirene.web import views

app_name = "web"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
