from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from members import health


@require_GET
@never_cache
def healthz(request):
    """Health of the web process, database, broker and scheduler, as JSON.

    200 when every part is healthy; 503 naming the parts that are not.
    """
    body = health.report()
    return JsonResponse(body, status=503 if body["failing"] else 200)
