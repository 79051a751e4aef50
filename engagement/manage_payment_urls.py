from django.urls import path

from engagement import payment_views as views

app_name = "payments_manage"

urlpatterns = [
    path("", views.manage, name="claims"),
    path("rates/", views.rates, name="rates"),
    path("settings/", views.payment_settings, name="settings"),
    path("totals/", views.totals, name="totals"),
    path("payments.csv", views.finance_csv, name="csv"),
]
