//! Indicator extraction: the `p_any_*` arrays, filled from the fields each log type
//! declares. Values are checked before they are kept: "AWS Internal" is no IP address,
//! `ec2.amazonaws.com` in an IP field is a domain, `010.001.002.003` is `10.1.2.3`, and
//! `host:port` keeps only the host.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::LazyLock;

use crate::event as p;
use serde_json::Value;
use smallvec::SmallVec;

/// What a declared field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An IP address, possibly with a port, brackets or leading zeros.
    Ip,
    /// An IP address or a host name (CloudTrail `sourceIPAddress`, `host:port`).
    Host,
    /// A URL or request line; its host is kept.
    Url,
    /// A domain name (trailing dot removed).
    Domain,
    /// An AWS ARN; its account id is kept too.
    Arn,
    /// A 12-digit AWS account id.
    AccountId,
    /// An EC2 instance id.
    InstanceId,
    /// A SHA-256 hex digest.
    Sha256,
    /// A SHA-1 hex digest.
    Sha1,
    /// An MD5 hex digest.
    Md5,
    /// An email address.
    Email,
    /// A user name.
    Username,
    /// A subtree scanned for strings that are unmistakably ARNs or instance ids.
    Scan,
    /// Free text (a syslog message) scanned for IPv4 addresses.
    TextIps,
}

/// The `p_any_*` array an indicator belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// `p_any_ip_addresses`.
    IpAddress,
    /// `p_any_domain_names`.
    DomainName,
    /// `p_any_aws_arns`.
    AwsArn,
    /// `p_any_aws_account_ids`.
    AwsAccountId,
    /// `p_any_aws_instance_ids`.
    AwsInstanceId,
    /// `p_any_sha256_hashes`.
    Sha256,
    /// `p_any_sha1_hashes`.
    Sha1,
    /// `p_any_md5_hashes`.
    Md5,
    /// `p_any_emails`.
    Email,
    /// `p_any_usernames`.
    Username,
}

impl Field {
    /// Every field, in [`caracal_core::event::INDICATOR_FIELDS`] order.
    pub const ALL: [Field; 10] = [
        Field::IpAddress,
        Field::DomainName,
        Field::AwsArn,
        Field::AwsAccountId,
        Field::AwsInstanceId,
        Field::Sha256,
        Field::Sha1,
        Field::Md5,
        Field::Email,
        Field::Username,
    ];

    /// The `p_any_*` column name.
    pub fn name(self) -> &'static str {
        match self {
            Field::IpAddress => p::P_ANY_IP_ADDRESSES,
            Field::DomainName => p::P_ANY_DOMAIN_NAMES,
            Field::AwsArn => p::P_ANY_AWS_ARNS,
            Field::AwsAccountId => p::P_ANY_AWS_ACCOUNT_IDS,
            Field::AwsInstanceId => p::P_ANY_AWS_INSTANCE_IDS,
            Field::Sha256 => p::P_ANY_SHA256_HASHES,
            Field::Sha1 => p::P_ANY_SHA1_HASHES,
            Field::Md5 => p::P_ANY_MD5_HASHES,
            Field::Email => p::P_ANY_EMAILS,
            Field::Username => p::P_ANY_USERNAMES,
        }
    }
}

/// The indicator arrays of one event. Values live back to back in one string (two
/// allocations per event however many indicators it has); once [`Indicators::finish`]
/// ran, each array is sorted and without duplicates.
#[derive(Debug, Clone, Default)]
pub struct Indicators {
    text: String,
    items: SmallVec<[(Field, u32, u32); 4]>,
}

impl PartialEq for Indicators {
    fn eq(&self, other: &Self) -> bool {
        self.items.len() == other.items.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Indicators {}

impl Indicators {
    /// Empty arrays with room for `bytes` of values and `items` values.
    pub fn with_capacity(bytes: usize, items: usize) -> Self {
        Indicators { text: String::with_capacity(bytes), items: SmallVec::with_capacity(items) }
    }

    /// Every indicator with its array, in array order (then sorted, after `finish`).
    pub fn iter(&self) -> impl Iterator<Item = (Field, &str)> {
        self.items.iter().map(|&(f, a, b)| (f, self.text.get(a as usize..b as usize).unwrap_or("")))
    }

    /// The values of one array.
    pub fn get(&self, field: Field) -> Vec<&str> {
        self.iter().filter(|(f, _)| *f == field).map(|(_, v)| v).collect()
    }

    /// The non-empty arrays with their `p_` field names, in
    /// [`caracal_core::event::INDICATOR_FIELDS`] order.
    pub fn named(&self) -> Vec<(&'static str, Vec<&str>)> {
        Field::ALL
            .iter()
            .map(|&f| (f.name(), self.get(f)))
            .filter(|(_, values)| !values.is_empty())
            .collect()
    }

    /// How many indicators there are (duplicates count until `finish`).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Bytes held, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        let spilled = if self.items.spilled() { self.items.capacity() } else { 0 };
        self.text.capacity() + spilled * std::mem::size_of::<(Field, u32, u32)>()
    }

    /// Adds `value` to `field` as is (no check; see [`Indicators::add`]).
    pub fn push(&mut self, field: Field, value: &str) {
        self.push_with(field, |text| text.push_str(value));
    }

    fn push_lowercase(&mut self, field: Field, value: &str) {
        self.push_with(field, |text| text.extend(value.chars().map(|c| c.to_ascii_lowercase())));
    }

    /// Adds an already parsed IP address (a parser that decoded it itself).
    pub fn push_ip(&mut self, ip: IpAddr) {
        use std::fmt::Write;
        // Writing to a String cannot fail.
        self.push_with(Field::IpAddress, |text| {
            let _ = write!(text, "{ip}");
        });
    }

    fn push_with(&mut self, field: Field, write: impl FnOnce(&mut String)) {
        let start = self.text.len();
        write(&mut self.text);
        let (Ok(a), Ok(b)) = (u32::try_from(start), u32::try_from(self.text.len())) else {
            self.text.truncate(start);
            return;
        };
        self.items.push((field, a, b));
    }

    /// Sorts every array and removes duplicates.
    pub fn finish(&mut self) {
        let text = &self.text;
        let value = |&(_, a, b): &(Field, u32, u32)| text.get(a as usize..b as usize);
        let order = |x: &(Field, u32, u32), y: &(Field, u32, u32)| {
            x.0.cmp(&y.0).then_with(|| value(x).cmp(&value(y)))
        };
        // Parsers often add them in order already (VPC Flow: addresses, then account).
        if !self.items.is_sorted_by(|x, y| order(x, y).is_le()) {
            self.items.sort_unstable_by(order);
        }
        self.items.dedup_by(|x, y| x.0 == y.0 && value(x) == value(y));
    }

    /// Adds every string (or number) found at `value` as an indicator of `kind`.
    pub fn add_value(&mut self, kind: Kind, value: &Value) {
        match value {
            Value::String(s) => self.add(kind, s),
            Value::Number(n) if kind == Kind::AccountId => self.add(kind, &n.to_string()),
            Value::Array(items) => items.iter().for_each(|v| self.add_value(kind, v)),
            Value::Object(map) if kind == Kind::Scan => {
                map.values().for_each(|v| self.add_value(kind, v))
            }
            _ => {}
        }
    }

    /// Adds `raw` as an indicator of `kind` if it is a valid one.
    pub fn add(&mut self, kind: Kind, raw: &str) {
        let s = raw.trim();
        if s.is_empty() || s == "-" {
            return;
        }
        match kind {
            Kind::Ip => {
                if is_canonical_ipv4(s) {
                    self.push(Field::IpAddress, s);
                } else if let Some(ip) = parse_ip(s) {
                    self.push_ip(ip);
                }
            }
            Kind::Host => self.add_host(s),
            Kind::Url => {
                if let Some(host) = url_host(s) {
                    self.add_host(host);
                }
            }
            Kind::Domain => {
                if is_domain(s.trim_end_matches('.')) {
                    self.push_lowercase(Field::DomainName, s.trim_end_matches('.'));
                }
            }
            Kind::Arn => {
                if s.starts_with("arn:") && s.split(':').count() >= 6 {
                    self.push(Field::AwsArn, s);
                    if let Some(account) = s.split(':').nth(4) {
                        self.add(Kind::AccountId, account);
                    }
                }
            }
            Kind::AccountId => {
                if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
                    self.push(Field::AwsAccountId, s);
                }
            }
            Kind::InstanceId => {
                if is_instance_id(s) {
                    self.push(Field::AwsInstanceId, s);
                }
            }
            Kind::Sha256 => {
                if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    self.push_lowercase(Field::Sha256, s);
                }
            }
            Kind::Sha1 => {
                if s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    self.push_lowercase(Field::Sha1, s);
                }
            }
            Kind::Md5 => {
                if s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                    self.push_lowercase(Field::Md5, s);
                }
            }
            Kind::Email => {
                if let Some((user, domain)) = s.split_once('@')
                    && !user.is_empty()
                    && !user.contains(char::is_whitespace)
                    && is_domain(domain)
                {
                    self.push_lowercase(Field::Email, s);
                }
            }
            Kind::Username => self.push(Field::Username, s),
            Kind::TextIps => {
                for m in IPV4_IN_TEXT.find_iter(s) {
                    // Canonical when std parses it (no leading zeros).
                    if m.as_str().parse::<Ipv4Addr>().is_ok() {
                        self.push(Field::IpAddress, m.as_str());
                    }
                }
            }
            Kind::Scan => {
                if s.starts_with("arn:") {
                    self.add(Kind::Arn, s);
                } else if is_instance_id(s) {
                    self.push(Field::AwsInstanceId, s);
                }
            }
        }
    }

    fn add_host(&mut self, s: &str) {
        if let Some(ip) = parse_ip(s) {
            self.push_ip(ip);
        } else {
            let host = strip_port(s).trim_end_matches('.');
            if is_domain(host) {
                self.push_lowercase(Field::DomainName, host);
            }
        }
    }
}

static IPV4_IN_TEXT: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b")
        .expect("static regex")
});

/// True for a dotted-quad IPv4 address written the way `Ipv4Addr`'s `Display` writes it
/// (no leading zeros), so it can be kept as is. Faster than std's general parser, which
/// showed in VPC Flow profiles.
pub fn is_canonical_ipv4(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    for octet in 0..4 {
        if octet > 0 {
            if b.get(i) != Some(&b'.') {
                return false;
            }
            i += 1;
        }
        let start = i;
        let mut value = 0u32;
        while i < b.len() && i - start < 3 && b[i].is_ascii_digit() {
            value = value * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        let len = i - start;
        if len == 0 || value > 255 || (len > 1 && b[start] == b'0') {
            return false;
        }
    }
    i == b.len()
}

/// Parses an IP address as real logs write it: `[::1]:443`, `10.0.0.1:80`,
/// `010.000.001.002`. Returns `None` for anything else ("AWS Internal", host names).
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        let inner = rest.split(']').next()?;
        return inner.parse::<IpAddr>().ok();
    }
    // IPv4 with a port: exactly one colon.
    let host = match s.split_once(':') {
        Some((h, port)) if !port.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => s,
    };
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(ip));
    }
    // Leading zeros: 010.001.002.003.
    let mut octets = [0u8; 4];
    let mut parts = host.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(IpAddr::V4(Ipv4Addr::from(octets)))
}

fn strip_port(s: &str) -> &str {
    match s.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => s,
    }
}

/// The host of a URL or of an HTTP request line (`GET http://h:80/p HTTP/1.1`).
fn url_host(s: &str) -> Option<&str> {
    let url = s.split_whitespace().find(|w| w.contains("://")).unwrap_or(s);
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    (!host.is_empty()).then_some(host)
}

/// True for a plausible DNS name with at least one dot: labels of letters, digits, `-`, `_`.
pub fn is_domain(s: &str) -> bool {
    s.len() <= 253
        && s.contains('.')
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && s.rsplit('.').next().is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_alphabetic()))
}

fn is_instance_id(s: &str) -> bool {
    s.strip_prefix("i-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17) && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_and_aws_internal_are_not_ip_addresses() {
        let mut ind = Indicators::default();
        ind.add(Kind::Host, "AWS Internal");
        ind.add(Kind::Host, "ec2.amazonaws.com");
        ind.add(Kind::Host, "010.001.002.003");
        ind.add(Kind::Host, "192.168.131.39:2817");
        ind.add(Kind::Host, "[2001:db8::1]:443");
        ind.finish();
        assert_eq!(ind.get(Field::IpAddress), ["10.1.2.3", "192.168.131.39", "2001:db8::1"]);
        assert_eq!(ind.get(Field::DomainName), ["ec2.amazonaws.com"]);
    }

    #[test]
    fn canonical_ipv4_means_what_std_prints() {
        for s in ["0.0.0.0", "10.1.2.3", "255.255.255.255", "192.168.131.39", "1.22.103.0"] {
            assert!(is_canonical_ipv4(s), "{s}");
            assert_eq!(s.parse::<Ipv4Addr>().map(|ip| ip.to_string()).as_deref(), Ok(s));
        }
        for s in [
            "",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3.00",
            "1.2.3.4 ",
            "1..2.3",
            "1.2.3.1234",
            "a.b.c.d",
            "1.2.3.-4",
            "::1",
            "1.2.3.4:80",
        ] {
            assert!(!is_canonical_ipv4(s), "{s}");
        }
    }

    #[test]
    fn arns_bring_their_account_id() {
        let mut ind = Indicators::default();
        ind.add(Kind::Arn, "arn:aws:iam::123456789012:user/alice");
        ind.add(Kind::Arn, "not an arn");
        assert_eq!(ind.get(Field::AwsArn), ["arn:aws:iam::123456789012:user/alice"]);
        assert_eq!(ind.get(Field::AwsAccountId), ["123456789012"]);
    }

    #[test]
    fn url_hosts_and_hashes_are_validated() {
        let mut ind = Indicators::default();
        ind.add(Kind::Url, "GET http://www.example.com:80/ HTTP/1.1");
        ind.add(Kind::Sha256, "not-a-hash");
        ind.add(Kind::Md5, "47AAA19F7EEC22E9BD0B5E58CFADE8CB");
        ind.add(Kind::Sha1, "AAF4C61DDCC5E8A2DABEDE0F3B482CD9AEA9434D");
        ind.add(Kind::Sha1, "47aaa19f7eec22e9bd0b5e58cfade8cb");
        ind.add(Kind::InstanceId, "i-0123456789abcdef0");
        ind.add(Kind::InstanceId, "i-xyz");
        assert_eq!(ind.get(Field::DomainName), ["www.example.com"]);
        assert!(ind.get(Field::Sha256).is_empty());
        assert_eq!(ind.get(Field::Md5), ["47aaa19f7eec22e9bd0b5e58cfade8cb"]);
        assert_eq!(ind.get(Field::Sha1), ["aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"]);
        assert_eq!(ind.get(Field::AwsInstanceId), ["i-0123456789abcdef0"]);
    }
}
