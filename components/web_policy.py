"""The site's Content-Security-Policy, shared by CloudFront (components/site.py)
and the local server (local/server.py). Pure data: no Pulumi import, so the
local stack can use it.

What a plain static site that talks only to its own origin needs, and no more.
"""

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
