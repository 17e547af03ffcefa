//! The client's IP: the peer address, or, when the peer is a configured trusted proxy, the
//! rightmost hop of `X-Forwarded-For` that is not itself a trusted proxy. Hops a client writes
//! to the left of that cannot change it, so rotating `X-Forwarded-For` resets nothing.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap, Request};
use ipnet::IpNet;

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&ip))
}

/// The client IP of a request, if the server knows its peer.
pub fn client_ip(request: &Request<Body>, trusted_proxies: &[IpNet]) -> Option<IpAddr> {
    client_ip_of(request.headers(), request.extensions(), trusted_proxies)
}

/// [`client_ip`] from a request's headers and extensions (for extractors, which see parts).
pub fn client_ip_of(
    headers: &HeaderMap,
    extensions: &Extensions,
    trusted_proxies: &[IpNet],
) -> Option<IpAddr> {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())?;
    if !trusted(peer, trusted_proxies) {
        return Some(peer);
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            // An unparseable hop ends the trusted chain; the last good address stands.
            break;
        };
        client = ip;
        if !trusted(ip, trusted_proxies) {
            break;
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, forwarded: Option<&str>) -> Request<Body> {
        let mut builder = Request::builder();
        if let Some(value) = forwarded {
            builder = builder.header("x-forwarded-for", value);
        }
        let mut request = builder.body(Body::empty()).unwrap_or_default();
        if let Ok(address) = peer.parse::<SocketAddr>() {
            request.extensions_mut().insert(ConnectInfo(address));
        }
        request
    }

    #[test]
    fn forwarded_for_is_honoured_only_from_trusted_proxies() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap_or_else(|_| IpNet::default())];
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        // An untrusted peer: its header is ignored.
        assert_eq!(
            client_ip(&request("203.0.113.9:5000", Some("1.2.3.4")), &proxies),
            ip("203.0.113.9")
        );
        // A trusted proxy: the rightmost untrusted hop.
        assert_eq!(
            client_ip(
                &request("10.0.0.2:5000", Some("1.2.3.4, 198.51.100.7")),
                &proxies
            ),
            ip("198.51.100.7")
        );
        // Spoofed hops on the left change nothing.
        assert_eq!(
            client_ip(
                &request("10.0.0.2:5000", Some("9.9.9.9, 8.8.8.8, 198.51.100.7")),
                &proxies
            ),
            ip("198.51.100.7")
        );
        // Chained trusted proxies are skipped.
        assert_eq!(
            client_ip(
                &request("10.0.0.2:5000", Some("198.51.100.7, 10.1.1.1")),
                &proxies
            ),
            ip("198.51.100.7")
        );
        // Garbage stops the walk at the last good address.
        assert_eq!(
            client_ip(&request("10.0.0.2:5000", Some("nonsense")), &proxies),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_ip(&request("10.0.0.2:5000", None), &proxies),
            ip("10.0.0.2")
        );
        assert_eq!(client_ip(&Request::new(Body::empty()), &proxies), None);
    }
}
