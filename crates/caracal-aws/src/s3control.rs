//! S3 Control against an emulator: the SDK's endpoint rules put the account id in front of
//! the endpoint host (`123456789012.127.0.0.1`), a name that cannot resolve when the host
//! is an IP address or `localhost`. [`AsGiven`] sends requests to the override as given.

use aws_sdk_s3control::config::endpoint::{Endpoint, EndpointFuture, Params, ResolveEndpoint};

/// Resolves every S3 Control request to one fixed URL.
#[derive(Debug, Clone)]
pub(crate) struct AsGiven(pub(crate) String);

impl ResolveEndpoint for AsGiven {
    fn resolve_endpoint<'a>(&'a self, _params: &'a Params) -> EndpointFuture<'a> {
        EndpointFuture::ready(Ok(Endpoint::builder().url(self.0.clone()).build()))
    }
}

/// Whether `url`'s host can take no account-id prefix: an IP address or `localhost`.
pub(crate) fn unprefixable(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = match authority.strip_prefix('[') {
        Some(v6) => return v6.contains(']'),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::unprefixable;

    #[test]
    fn only_hosts_that_cannot_take_a_prefix_are_sent_as_given() {
        assert!(unprefixable("http://127.0.0.1:5000"));
        assert!(unprefixable("http://localhost:4566/"));
        assert!(unprefixable("http://[::1]:5000"));
        assert!(!unprefixable("https://s3-control.eu-west-1.amazonaws.com"));
        assert!(!unprefixable("https://vpce-1.s3-control.us-east-1.vpce.amazonaws.com"));
    }
}
