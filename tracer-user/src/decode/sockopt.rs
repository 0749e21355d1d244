//! setsockopt's value, printed the way strace prints it for the option and the length given:
//! an `int` only when the length holds one, `struct linger` only when it holds one, the bytes
//! for options strace does not decode, and the pointer where strace prints the pointer.
use serde_json::json;

use super::structs::Decoded;

/// `ICMP_FILTER` (include/uapi/linux/icmp.h), for SOL_RAW.
const ICMP_FILTER: i32 = 1;
const INT: usize = size_of::<i32>();
/// `sizeof(struct linger)`.
const LINGER: usize = 2 * INT;

/// What to print for the value of `(level, name)` with `optlen`.
#[derive(Debug, PartialEq, Eq)]
pub enum Shape {
    /// The pointer.
    Address,
    /// `[-15]`.
    Int,
    /// `{l_onoff=1, l_linger=5}`.
    Linger,
    /// The bytes, quoted (cut at `-s`).
    Bytes,
}

/// SOL_SOCKET options strace prints as an `int` (when the length holds one).
const SOL_SOCKET_INTS: &[i32] = &[
    libc::SO_DEBUG,
    libc::SO_REUSEADDR,
    libc::SO_DONTROUTE,
    libc::SO_BROADCAST,
    libc::SO_SNDBUF,
    libc::SO_RCVBUF,
    libc::SO_KEEPALIVE,
    libc::SO_OOBINLINE,
    libc::SO_NO_CHECK,
    libc::SO_PRIORITY,
    libc::SO_BSDCOMPAT,
    libc::SO_REUSEPORT,
    libc::SO_PASSCRED,
    libc::SO_RCVLOWAT,
    libc::SO_SNDLOWAT,
    libc::SO_DETACH_FILTER,
    libc::SO_TIMESTAMP,
    libc::SO_ACCEPTCONN,
    libc::SO_SNDBUFFORCE,
    libc::SO_RCVBUFFORCE,
    libc::SO_PASSSEC,
    libc::SO_TIMESTAMPNS,
    libc::SO_MARK,
    libc::SO_TIMESTAMPING,
    libc::SO_RXQ_OVFL,
    libc::SO_WIFI_STATUS,
    libc::SO_PEEK_OFF,
    libc::SO_NOFCS,
    libc::SO_LOCK_FILTER,
    libc::SO_SELECT_ERR_QUEUE,
    libc::SO_BUSY_POLL,
    libc::SO_INCOMING_CPU,
    libc::SO_CNX_ADVICE,
    libc::SO_INCOMING_NAPI_ID,
    libc::SO_ZEROCOPY,
    libc::SO_TIMESTAMP_NEW,
    libc::SO_TIMESTAMPNS_NEW,
    libc::SO_TIMESTAMPING_NEW,
    libc::SO_DETACH_REUSEPORT_BPF,
    libc::SO_PREFER_BUSY_POLL,
    libc::SO_BUSY_POLL_BUDGET,
    libc::SO_RESERVE_MEM,
    libc::SO_RCVMARK,
];

/// strace's choice for setsockopt (net.c, print_setsockopt). Options it decodes as structs
/// we do not (socket filters, multicast requests, packet rings) show the pointer.
pub fn shape(level: i32, name: i32, optlen: i32) -> Shape {
    let len = usize::try_from(optlen).unwrap_or(usize::MAX);
    let int_or_address = if len < INT {
        Shape::Address
    } else {
        Shape::Int
    };
    match level {
        libc::SOL_SOCKET => match name {
            libc::SO_LINGER if len < LINGER => Shape::Address,
            libc::SO_LINGER => Shape::Linger,
            libc::SO_ATTACH_FILTER | libc::SO_ATTACH_REUSEPORT_CBPF | libc::SO_TXREHASH => {
                Shape::Address
            }
            n if SOL_SOCKET_INTS.contains(&n) => int_or_address,
            _ => default(len),
        },
        libc::SOL_IP => match name {
            libc::IP_ADD_MEMBERSHIP
            | libc::IP_DROP_MEMBERSHIP
            | libc::MCAST_JOIN_GROUP
            | libc::MCAST_LEAVE_GROUP => Shape::Address,
            _ => default(len),
        },
        libc::SOL_IPV6 => match name {
            libc::IPV6_ADD_MEMBERSHIP
            | libc::IPV6_DROP_MEMBERSHIP
            | libc::IPV6_JOIN_ANYCAST
            | libc::IPV6_LEAVE_ANYCAST
            | libc::MCAST_JOIN_GROUP
            | libc::MCAST_LEAVE_GROUP => Shape::Address,
            _ => default(len),
        },
        libc::SOL_PACKET => match name {
            libc::PACKET_RX_RING
            | libc::PACKET_TX_RING
            | libc::PACKET_ADD_MEMBERSHIP
            | libc::PACKET_DROP_MEMBERSHIP => Shape::Address,
            _ => default(len),
        },
        libc::SOL_RAW if name == ICMP_FILTER => Shape::Address,
        libc::SOL_NETLINK => int_or_address,
        _ => default(len),
    }
}

fn default(len: usize) -> Shape {
    if len == INT { Shape::Int } else { Shape::Bytes }
}

/// `[-15]` from the first bytes of the value.
pub fn int(b: &[u8]) -> Option<Decoded> {
    let v = i32::from_ne_bytes(b.get(..INT)?.try_into().ok()?);
    Some((format!("[{v}]"), json!(v)))
}

/// `{l_onoff=1, l_linger=5}`.
pub fn linger(b: &[u8]) -> Option<Decoded> {
    let on = i32::from_ne_bytes(b.get(..INT)?.try_into().ok()?);
    let secs = i32::from_ne_bytes(b.get(INT..LINGER)?.try_into().ok()?);
    Some((
        format!("{{l_onoff={on}, l_linger={secs}}}"),
        json!({"l_onoff": on, "l_linger": secs}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_option_and_its_length() {
        // strace 6.1 (see the commit message for the lines).
        let sol = libc::SOL_SOCKET;
        assert_eq!(shape(sol, libc::SO_LINGER, 4), Shape::Address);
        assert_eq!(shape(sol, libc::SO_LINGER, 8), Shape::Linger);
        assert_eq!(shape(sol, libc::SO_LINGER, 12), Shape::Linger);
        assert_eq!(shape(sol, libc::SO_REUSEADDR, 2), Shape::Address);
        assert_eq!(shape(sol, libc::SO_REUSEADDR, 8), Shape::Int);
        assert_eq!(shape(sol, libc::SO_REUSEADDR, 0), Shape::Address);
        assert_eq!(shape(sol, libc::SO_RCVTIMEO, 4), Shape::Int);
        assert_eq!(shape(sol, 1234, 4), Shape::Int);
        assert_eq!(shape(libc::SOL_IP, libc::IP_TOS, 4), Shape::Int);
        assert_eq!(shape(libc::SOL_TCP, libc::TCP_NODELAY, 4), Shape::Int);
        assert_eq!(shape(libc::SOL_TCP, libc::TCP_NODELAY, 2), Shape::Bytes);
        assert_eq!(shape(libc::SOL_TCP, libc::TCP_NODELAY, 8), Shape::Bytes);
        assert_eq!(shape(libc::SOL_NETLINK, 1, 2), Shape::Address);
        assert_eq!(shape(libc::SOL_NETLINK, 1, 8), Shape::Int);
        assert_eq!(shape(libc::SOL_TCP, 1, -1), Shape::Bytes);
        let mut l = 1i32.to_ne_bytes().to_vec();
        l.extend_from_slice(&5i32.to_ne_bytes());
        assert_eq!(
            linger(&l).map(|d| d.0).as_deref(),
            Some("{l_onoff=1, l_linger=5}")
        );
        assert_eq!(linger(&l[..6]), None);
        assert_eq!(
            int(&(-15i32).to_ne_bytes()).map(|d| d.0).as_deref(),
            Some("[-15]")
        );
        assert_eq!(int(&[1, 2]), None);
    }
}
