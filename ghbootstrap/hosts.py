"""GitHub hosts and the OIDC issuers their Actions tokens come from: pure rules, light
enough for the printed commands (repairs.py) and `--help` to import."""

from __future__ import annotations

from urllib.parse import urlparse

from ghbootstrap.defaults import GITHUB_ISSUER


def web_host(url: str) -> str:
    """The GitHub host an API URL serves: github.com for api.github.com, TENANT.ghe.com
    for api.TENANT.ghe.com, otherwise the URL's host (GHES: https://HOST/api/v3)."""
    host = (urlparse(url).hostname or "github.com").lower()
    if host == "api.github.com" or (host.startswith("api.") and host.endswith(".ghe.com")):
        return host.removeprefix("api.")
    return host


def issuer_for(url: str) -> str:
    """The OIDC issuer of the Actions tokens the GitHub host behind an API URL issues: the
    default `--issuer-url` of every command, so a role trusts the provider its jobs'
    tokens really come from.

    Per GitHub's documentation (docs.github.com: "About security hardening with OpenID
    Connect", "Configuring OpenID Connect in Amazon Web Services", per product version,
    and "Network details for GHE.com"):

    - github.com (api.github.com): https://token.actions.githubusercontent.com. An
      enterprise that opted into a unique issuer has .../ENTERPRISE_SLUG instead; the
      slug is not in the API URL, so that one is only ever given (`--issuer-url`).
    - GHE.com, data residency (api.TENANT.ghe.com): https://token.actions.TENANT.ghe.com.
    - GitHub Enterprise Server (https://HOSTNAME/api/v3): https://HOSTNAME/_services/token.
      HOSTNAME is the server's configured host name, without a port: a port in the API
      URL names a proxy or tunnel in front of it, not the token's `iss`.

    An API URL on plain http names no host that issues Actions tokens (GitHub Enterprise
    Server needs TLS configured before Actions can be enabled): a local emulator or proxy,
    for which github.com's issuer stays the default."""
    parsed = urlparse(url)
    host = web_host(url)
    if parsed.scheme != "https" or host == "github.com":
        return GITHUB_ISSUER
    if host.endswith(".ghe.com"):
        return f"https://token.actions.{host}"
    return f"https://{host}/_services/token"


def presented_issuer(given: str | None, host_issuer: str, role_issuer: str | None) -> str:
    """The issuer of the tokens a job presents: the one given (`--issuer-url`), else the
    GitHub host's. On github.com, an enterprise's own issuer (GITHUB_ISSUER/SLUG, which no
    API URL names) is taken from the role that trusts it."""
    if given is not None:
        return given
    if (
        host_issuer == GITHUB_ISSUER
        and role_issuer is not None
        and role_issuer.startswith(GITHUB_ISSUER + "/")
    ):
        return role_issuer
    return host_issuer
