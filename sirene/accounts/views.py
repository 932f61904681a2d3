from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sirene.accounts.models import ApiToken, User
from sirene.accounts.permissions import Action, can, permission_required
from sirene.accounts.services import revoke_token


@permission_required(Action.MANAGE_OWN_TOKENS)
def tokens(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    new_token = None
    if request.method == "POST":
        name = request.POST.get("name", "").strip()[:100]
        _token, new_token = ApiToken.issue(user, name=name)
        messages.success(request, _("New API token created. Copy it now: it is shown only once."))
    qs = ApiToken.objects.all() if can(user, Action.MANAGE_TOKENS) else ApiToken.objects.filter(user=user)
    return render(
        request,
        "accounts/tokens.html",
        {"tokens": qs.select_related("user"), "new_token": new_token},
    )


@permission_required(Action.MANAGE_OWN_TOKENS)
@require_POST
def revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    qs = ApiToken.objects.all() if can(user, Action.MANAGE_TOKENS) else ApiToken.objects.filter(user=user)
    token = get_object_or_404(qs, pk=token_id)
    revoke_token(token)
    messages.success(request, _("Token revoked."))
    return redirect("accounts:tokens")
