from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

# The admin logs in through allauth, so its rate limits cover the admin too.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = _("Convene administration")
admin.site.site_title = _("Convene admin")

# Each app has one urls.py with every route it serves, under its own namespace.
urlpatterns = [
    path("", include("communities.urls")),
    path("", include("engagement.urls")),
    path("", include("improvement.urls")),
    path("", include("members.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]

if settings.CONVENE_BENCH:
    # Measuring speed only (make bench): a bare view, and the last request's totals.
    urlpatterns.append(path("", include("members.bench")))
