from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from communities.models import Community


def home(request):
    communities = Community.objects.listed().only("name", "slug", "purpose")
    page = Paginator(communities, 20).get_page(request.GET.get("page"))
    return render(request, "communities/home.html", {"page": page})


def community_detail(request, slug):
    # Unlisted communities are reachable by their address; archived ones stay readable.
    community = get_object_or_404(Community, slug=slug)
    return render(request, "communities/community_detail.html", {"community": community})
