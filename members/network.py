"""Who is asking, as far as the network can tell: one home for a person's address, used by
every limit counted per address (allauth's, through the account adapter, and Convene's own,
such as public survey answers)."""

from django.conf import settings


def client_address(request) -> str:
    """The address of the person making the request. Behind `TRUSTED_PROXY_COUNT` proxies
    (settings), each adds the address it saw to the end of X-Forwarded-For, so the person's
    is that many entries from the end; anything before it the person could have written
    themselves. With fewer entries than proxies, the nearest proxy's address is used: the
    stricter choice, never one a person can pick."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")
