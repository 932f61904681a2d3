from __future__ import annotations

from django.urls import path

from sirene.web import views

app_name = "web"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("metrics/", views.metrics_page, name="metrics"),
    path("metrics.csv", views.metrics_csv, name="metrics_csv"),
]
