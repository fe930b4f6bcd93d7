"""Helpers shared by caracal's bundled policies (importable as caracal_policy_helpers)."""
from datetime import datetime, timezone

# Grantee URIs that mean "anyone" or "any AWS account" in S3 ACLs.
PUBLIC_GROUP_URIS = {
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
}
WORLD_CIDRS = {"0.0.0.0/0", "::/0"}
# Credential report placeholders: "unknown" (never used, not tracked, not applicable),
# never a date. caracal's collector turns them into null; other snapshots keep the text.
CREDENTIAL_REPORT_SENTINELS = ("N/A", "not_supported", "no_information")


def now_iso():
    """The current UTC time as ISO 8601 text. Tests mock this to pin the clock."""
    return datetime.now(timezone.utc).isoformat()


def parse_time(text):
    """Parses an ISO 8601 / RFC 3339 timestamp into an aware datetime, or None."""
    if not text or text in CREDENTIAL_REPORT_SENTINELS:
        return None
    parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if parsed.year < 1971:
        # Panther-format snapshots write "never" as 0001-01-01: unknown, not old.
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def days_since(text):
    """Whole days between a timestamp and now_iso(); None when there is no timestamp."""
    then = parse_time(text)
    if then is None:
        return None
    return (parse_time(now_iso()) - then).days


def permission_opens_port(permission, port):
    """True when an ingress permission admits `port` from the whole internet."""
    protocol = str(permission.get("IpProtocol", ""))
    if protocol not in ("-1", "tcp", "6"):
        return False
    if protocol != "-1":
        low, high = permission.get("FromPort"), permission.get("ToPort")
        if low is None or high is None or not low <= port <= high:
            return False
    cidrs = {r.get("CidrIp") for r in permission.get("IpRanges") or []}
    cidrs |= {r.get("CidrIpv6") for r in permission.get("Ipv6Ranges") or []}
    return bool(cidrs & WORLD_CIDRS)


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statement_is_public(statement):
    """True when an Allow statement of a resource policy names any principal (`*` or
    `{"AWS": "*"}`) with no Condition narrowing it."""
    if statement.get("Effect") != "Allow" or statement.get("Condition"):
        return False
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in _as_list(principal.get("AWS"))
    return False


def policy_is_public(document):
    """True when a resource policy (a JSON string or a mapping) has a public statement."""
    import json

    if not document:
        return False
    if isinstance(document, str):
        document = json.loads(document)
    return any(statement_is_public(s) for s in _as_list(document.get("Statement")))


def root_has_credentials(resource):
    """False only when the root user's credential report shows no password, no active
    access key and no active certificate (root credentials removed centrally). A root
    password is reported `not_supported` (null), which counts as present."""
    report = resource.get("CredentialReport") or {}
    if report.get("PasswordEnabled") is not False:
        return True
    return any(report.get(f"{kind}{n}Active") is True for kind in ("AccessKey", "Cert") for n in (1, 2))


def is_home_region_copy(resource):
    """True when a trail snapshot is a multi-region trail seen outside its home region
    (a shadow copy): CIS judges such a trail once, in its home region."""
    home = resource.get("HomeRegion")
    region = resource.get("Region")
    return bool(resource.get("IsMultiRegionTrail")) and bool(home) and bool(region) and home != region


def as_document(value):
    """A policy document as a mapping: JSON text is parsed, None becomes {}."""
    import json

    if not value:
        return {}
    if isinstance(value, str):
        return json.loads(value)
    return value


def as_list(value):
    """None → [], a scalar → [scalar], a list unchanged (IAM allows all three)."""
    return _as_list(value)


def lookup_json(value):
    """A `resource_lookup` answer as a mapping (mocks in tests return JSON text)."""
    import json

    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        return json.loads(value)
    return value
