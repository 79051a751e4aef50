from django.urls import path

from engagement import payment_views as views

app_name = "payments"

urlpatterns = [
    path("claim/", views.claim_new, name="new"),
    path("choice/", views.payment_choice, name="choice"),
    path("claims/<int:pk>/", views.claim_detail, name="claim"),
    path("claims/<int:pk>/answer/", views.claim_answer, name="answer"),
    path("claims/<int:pk>/withdraw/", views.claim_withdraw, name="withdraw"),
    path("claims/<int:pk>/decide/", views.claim_decide, name="decide"),
    path("claims/<int:pk>/paid/", views.claim_paid, name="paid"),
    path("claims/<int:pk>/receipts/<int:expense>/", views.receipt, name="receipt"),
]
