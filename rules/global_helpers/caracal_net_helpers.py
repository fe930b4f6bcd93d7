"""Address helpers for network log rules (importable as caracal_net_helpers)."""

import ipaddress


def ip(value):
    """The address object for `value`, or None when it is missing or not an address."""
    if not value or not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def is_public(value):
    """True for a globally routable address (not private, loopback, link-local, CGNAT...)."""
    addr = ip(value)
    return addr is not None and addr.is_global


def is_internal(value):
    """True for a private (RFC 1918, ULA) or CGNAT address: one of ours inside a VPC."""
    addr = ip(value)
    return addr is not None and (addr.is_private or addr in ipaddress.ip_network("100.64.0.0/10")) and not addr.is_loopback
