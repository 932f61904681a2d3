from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from sirene.accounts import views
from sirene.accounts.throttle import ThrottledLoginView

account_patterns = (
    [
        path("tokens/", views.tokens, name="tokens"),
        path("tokens/<int:token_id>/revoke/", views.revoke, name="revoke"),
    ],
    "accounts",
)

urlpatterns = [
    path("login/", ThrottledLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", include(account_patterns)),
]
