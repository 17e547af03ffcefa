//! Which addresses an outgoing call may reach: the classifier of addresses no public service
//! has (loopback, private, link-local, ...), the allow list that opens some of them, and the
//! resolver that applies both to the addresses a name resolves to.
//!
//! The check is on resolved addresses, in the resolver the connector uses: the address checked
//! is the address connected to, so a name that resolves to a public address when checked and
//! a private one when connected (DNS rebinding) cannot slip through. IP literals never reach a
//! resolver, so the client checks them before sending ([`AddressPolicy::check`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;

/// Why an address is refused: the kind of address no public service has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `10/8`, `172.16/12`, `192.168/16`, IPv6 site-local `fec0::/10`.
    Private,
    /// `169.254/16` (cloud metadata services live there), `fe80::/10`.
    LinkLocal,
    /// `0.0.0.0/8`, `::`.
    Unspecified,
    /// `224/4`, `ff00::/8`, `255.255.255.255`.
    Multicast,
    /// Carrier-grade NAT, `100.64/10`.
    SharedAddressSpace,
    /// IPv6 unique-local `fc00::/7`.
    UniqueLocal,
    /// Documentation, benchmarking, protocol-assignment and future-use ranges.
    Reserved,
    /// A URL whose scheme is not `http` or `https`, or without a host.
    Scheme,
}

impl Refusal {
    /// The reason as a metric label and log field (`loopback`, `private`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::LinkLocal => "link_local",
            Self::Unspecified => "unspecified",
            Self::Multicast => "multicast",
            Self::SharedAddressSpace => "shared_address_space",
            Self::UniqueLocal => "unique_local",
            Self::Reserved => "reserved",
            Self::Scheme => "scheme",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why `ip` is not a public address, or `None` when it is one.
pub fn classify(ip: IpAddr) -> Option<Refusal> {
    match ip {
        IpAddr::V4(ip) => classify_v4(ip),
        IpAddr::V6(ip) => classify_v6(ip),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Refusal> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => Refusal::Unspecified,
        (127, _, _) => Refusal::Loopback,
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => Refusal::Private,
        (169, 254, _) => Refusal::LinkLocal,
        (100, 64..=127, _) => Refusal::SharedAddressSpace,
        (224..=239, _, _) => Refusal::Multicast,
        _ if ip.is_broadcast() => Refusal::Multicast,
        (240..=255, _, _) => Refusal::Reserved,
        (192, 0, 0) | (192, 0, 2) | (198, 51, 100) | (203, 0, 113) | (198, 18..=19, _) => {
            Refusal::Reserved
        }
        _ => return None,
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<Refusal> {
    // Forms that embed an IPv4 address reach that address: judge the embedded one.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let segments = ip.segments();
    if ip.is_loopback() {
        return Some(Refusal::Loopback);
    }
    if ip.is_unspecified() {
        return Some(Refusal::Unspecified);
    }
    // IPv4-compatible `::a.b.c.d` (deprecated, still routed by some stacks).
    if segments[..6] == [0; 6] {
        return classify_v4(embedded_v4(segments[6], segments[7]));
    }
    // NAT64 `64:ff9b::/96` reaches the embedded IPv4 address.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return classify_v4(embedded_v4(segments[6], segments[7]));
    }
    // 6to4 `2002:a.b.c.d::/16`.
    if segments[0] == 0x2002 {
        return classify_v4(embedded_v4(segments[1], segments[2]));
    }
    Some(match segments[0] {
        0xfe80..=0xfebf => Refusal::LinkLocal,
        0xfec0..=0xfeff => Refusal::Private,
        0xfc00..=0xfdff => Refusal::UniqueLocal,
        0xff00..=0xffff => Refusal::Multicast,
        // Documentation 2001:db8::/32, Teredo 2001::/32 (tunnels to an obfuscated IPv4),
        // discard-only 100::/64.
        0x2001 if segments[1] == 0x0db8 || segments[1] == 0 => Refusal::Reserved,
        0x0100 if segments[1..4] == [0, 0, 0] => Refusal::Reserved,
        _ => return None,
    })
}

fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    let [a, b] = high.to_be_bytes();
    let [c, d] = low.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

/// Which non-public destinations a client may call anyway.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allow_loopback: bool,
    allowed_networks: Vec<IpNet>,
    allowed_hosts: Vec<String>,
}

impl AddressPolicy {
    /// Loopback addresses allowed too (tests, a sidecar on the same host).
    pub fn allow_loopback(mut self, allow: bool) -> Self {
        self.allow_loopback = allow;
        self
    }

    /// The addresses of `network` allowed, whatever their kind (`10.1.0.0/16`).
    pub fn allow_network(mut self, network: IpNet) -> Self {
        self.allowed_networks.push(network);
        self
    }

    /// Every address `host` resolves to allowed (an internal service's name). Matched exactly,
    /// without case; its subdomains are not included.
    pub fn allow_host(mut self, host: &str) -> Self {
        self.allowed_hosts
            .push(host.trim_end_matches('.').to_ascii_lowercase());
        self
    }

    /// Whether a call to `ip`, reached through the name `host` (`None` for an IP literal), is
    /// allowed; why not otherwise.
    pub fn check(&self, host: Option<&str>, ip: IpAddr) -> Result<(), Refusal> {
        if let Some(host) = host
            && self.host_allowed(host)
        {
            return Ok(());
        }
        match classify(ip) {
            None => Ok(()),
            Some(_) if self.allowed_networks.iter().any(|net| net.contains(&ip)) => Ok(()),
            Some(Refusal::Loopback) if self.allow_loopback => Ok(()),
            Some(reason) => Err(reason),
        }
    }

    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.allowed_hosts
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(host))
    }
}

/// The resolver error when every address of a name is refused: the client finds it in the
/// error chain and reports [`ClientError::Refused`](super::ClientError::Refused).
#[derive(Debug, thiserror::Error)]
#[error("every address of the host is refused ({reason})")]
pub(super) struct RefusedAddress {
    pub(super) reason: Refusal,
}

/// Why the addresses of a name are not to be connected to.
#[derive(Debug)]
pub(super) enum Unreachable {
    /// The name resolved, and the policy refuses every address.
    Refused(Refusal),
    /// The name did not resolve.
    Lookup(std::io::Error),
}

/// The addresses `host` resolves to (system resolver) that the policy allows: the one check
/// of resolved addresses, run by the connector's resolver for every call and by
/// [`HttpClient::check_destination`](super::HttpClient::check_destination).
pub(super) async fn allowed_addresses(
    policy: &AddressPolicy,
    host: &str,
) -> Result<Vec<SocketAddr>, Unreachable> {
    let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(Unreachable::Lookup)?
        .collect();
    let mut refusal = None;
    let allowed: Vec<SocketAddr> = resolved
        .into_iter()
        .filter(|addr| match policy.check(Some(host), addr.ip()) {
            Ok(()) => true,
            Err(reason) => {
                refusal.get_or_insert(reason);
                false
            }
        })
        .collect();
    match (allowed.is_empty(), refusal) {
        (true, Some(reason)) => Err(Unreachable::Refused(reason)),
        _ => Ok(allowed),
    }
}

/// The IP address `host` (a URL's host, IPv6 in brackets) is written as, if it is a literal:
/// those never reach a resolver, so the client checks them itself. (The URL parser has
/// normalised `0x7f.1` and the like to dotted form already.)
pub(super) fn literal_address(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok()
}

/// The system resolver, keeping only the addresses the policy allows.
pub(super) struct GuardedResolver {
    pub(super) policy: Arc<AddressPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            match allowed_addresses(&policy, name.as_str()).await {
                Ok(allowed) => Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs),
                Err(Unreachable::Refused(reason)) => Err(Box::new(RefusedAddress { reason }) as _),
                Err(Unreachable::Lookup(error)) => Err(Box::new(error) as _),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn non_public_addresses_are_classified() {
        for (address, reason) in [
            ("127.0.0.1", Refusal::Loopback),
            ("127.255.0.9", Refusal::Loopback),
            ("10.0.0.1", Refusal::Private),
            ("172.16.5.4", Refusal::Private),
            ("172.31.255.255", Refusal::Private),
            ("192.168.1.1", Refusal::Private),
            ("169.254.169.254", Refusal::LinkLocal),
            ("0.0.0.0", Refusal::Unspecified),
            ("100.64.0.1", Refusal::SharedAddressSpace),
            ("100.127.255.255", Refusal::SharedAddressSpace),
            ("224.0.0.1", Refusal::Multicast),
            ("255.255.255.255", Refusal::Multicast),
            ("240.0.0.1", Refusal::Reserved),
            ("192.0.2.10", Refusal::Reserved),
            ("::1", Refusal::Loopback),
            ("::", Refusal::Unspecified),
            ("fe80::1", Refusal::LinkLocal),
            ("fc00::1", Refusal::UniqueLocal),
            ("fd12:3456::1", Refusal::UniqueLocal),
            ("ff02::1", Refusal::Multicast),
            ("2001:db8::1", Refusal::Reserved),
            // IPv4 inside IPv6 is judged as the IPv4 address it reaches.
            ("::ffff:127.0.0.1", Refusal::Loopback),
            ("::ffff:10.1.2.3", Refusal::Private),
            ("::ffff:169.254.169.254", Refusal::LinkLocal),
            ("::127.0.0.1", Refusal::Loopback),
            ("64:ff9b::a00:1", Refusal::Private),
            ("2002:7f00:1::", Refusal::Loopback),
        ] {
            assert_eq!(classify(ip(address)), Some(reason), "{address}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for address in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "192.169.0.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "2002:808:808::",
        ] {
            assert_eq!(classify(ip(address)), None, "{address}");
        }
    }

    #[test]
    fn the_policy_opens_loopback_networks_and_hosts_only_as_asked() {
        let closed = AddressPolicy::default();
        assert_eq!(closed.check(None, ip("127.0.0.1")), Err(Refusal::Loopback));
        assert_eq!(closed.check(None, ip("8.8.8.8")), Ok(()));

        let loopback = AddressPolicy::default().allow_loopback(true);
        assert_eq!(loopback.check(None, ip("127.0.0.1")), Ok(()));
        assert_eq!(loopback.check(None, ip("::1")), Ok(()));
        assert_eq!(loopback.check(None, ip("::ffff:127.0.0.1")), Ok(()));
        assert_eq!(loopback.check(None, ip("10.0.0.1")), Err(Refusal::Private));

        let network = AddressPolicy::default()
            .allow_network("10.1.0.0/16".parse().unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(network.check(None, ip("10.1.2.3")), Ok(()));
        assert_eq!(network.check(None, ip("10.2.0.1")), Err(Refusal::Private));

        let host = AddressPolicy::default().allow_host("Billing.Internal");
        assert_eq!(
            host.check(Some("billing.internal."), ip("10.9.9.9")),
            Ok(())
        );
        assert_eq!(
            host.check(Some("evil.billing.internal"), ip("10.9.9.9")),
            Err(Refusal::Private)
        );
        assert_eq!(host.check(None, ip("10.9.9.9")), Err(Refusal::Private));
    }
}
