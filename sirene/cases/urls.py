from __future__ import annotations

from django.urls import path

from sirene.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_new, name="new"),
    path("bulk/", views.case_bulk, name="bulk"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path("<int:case_id>/take/", views.case_take, name="take"),
    path("<int:case_id>/assign/", views.case_assign, name="assign"),
    path("<int:case_id>/status/", views.case_status, name="status"),
    path("<int:case_id>/category/", views.case_category, name="category"),
    path("<int:case_id>/reproduced/", views.case_reproduced, name="reproduced"),
    path("<int:case_id>/note/", views.case_note, name="note"),
    path("<int:case_id>/analysis/retry/", views.case_analysis_retry, name="analysis_retry"),
    path("customers/<int:customer_id>/", views.customer_detail, name="customer"),
]
