//! Socket options as strace 6.1 prints them (net.c): the option's name, setsockopt's value
//! (an `int` only when the length holds one, `struct linger` only when it holds one, the bytes
//! for options strace does not decode, the pointer where strace prints the pointer), and
//! getsockopt's value ([`get`]).
use serde_json::json;

use super::{flags, structs::Decoded};

pub mod get;

/// `ICMP_FILTER` (include/uapi/linux/icmp.h), for SOL_RAW.
const ICMP_FILTER: i32 = 1;
const INT: usize = size_of::<i32>();
/// `sizeof(struct linger)`.
const LINGER: usize = 2 * INT;
/// `SO_ATTACH_FILTER`, which getsockopt knows as `SO_GET_FILTER`.
const SO_ATTACH_FILTER: u64 = 26;

/// SOL_SOCKET option names, values of include/uapi/asm-generic/socket.h (x86_64, arm64),
/// named as strace names them (`_OLD` for the options with a y2038 twin). 26 is in
/// [`optname`]: its name depends on the call.
#[rustfmt::skip]
const SO_NAMES: flags::Table = &[
    (1, "SO_DEBUG"), (2, "SO_REUSEADDR"), (3, "SO_TYPE"), (4, "SO_ERROR"),
    (5, "SO_DONTROUTE"), (6, "SO_BROADCAST"), (7, "SO_SNDBUF"), (8, "SO_RCVBUF"),
    (9, "SO_KEEPALIVE"), (10, "SO_OOBINLINE"), (11, "SO_NO_CHECK"), (12, "SO_PRIORITY"),
    (13, "SO_LINGER"), (14, "SO_BSDCOMPAT"), (15, "SO_REUSEPORT"), (16, "SO_PASSCRED"),
    (17, "SO_PEERCRED"), (18, "SO_RCVLOWAT"), (19, "SO_SNDLOWAT"), (20, "SO_RCVTIMEO_OLD"),
    (21, "SO_SNDTIMEO_OLD"), (22, "SO_SECURITY_AUTHENTICATION"),
    (23, "SO_SECURITY_ENCRYPTION_TRANSPORT"), (24, "SO_SECURITY_ENCRYPTION_NETWORK"),
    (25, "SO_BINDTODEVICE"), (27, "SO_DETACH_FILTER"), (28, "SO_PEERNAME"),
    (29, "SO_TIMESTAMP_OLD"), (30, "SO_ACCEPTCONN"), (31, "SO_PEERSEC"),
    (32, "SO_SNDBUFFORCE"), (33, "SO_RCVBUFFORCE"), (34, "SO_PASSSEC"),
    (35, "SO_TIMESTAMPNS_OLD"), (36, "SO_MARK"), (37, "SO_TIMESTAMPING_OLD"),
    (38, "SO_PROTOCOL"), (39, "SO_DOMAIN"), (40, "SO_RXQ_OVFL"), (41, "SO_WIFI_STATUS"),
    (42, "SO_PEEK_OFF"), (43, "SO_NOFCS"), (44, "SO_LOCK_FILTER"),
    (45, "SO_SELECT_ERR_QUEUE"), (46, "SO_BUSY_POLL"), (47, "SO_MAX_PACING_RATE"),
    (48, "SO_BPF_EXTENSIONS"), (49, "SO_INCOMING_CPU"), (50, "SO_ATTACH_BPF"),
    (51, "SO_ATTACH_REUSEPORT_CBPF"), (52, "SO_ATTACH_REUSEPORT_EBPF"), (53, "SO_CNX_ADVICE"),
    (55, "SO_MEMINFO"), (56, "SO_INCOMING_NAPI_ID"), (57, "SO_COOKIE"), (59, "SO_PEERGROUPS"),
    (60, "SO_ZEROCOPY"), (61, "SO_TXTIME"), (62, "SO_BINDTOIFINDEX"), (63, "SO_TIMESTAMP_NEW"),
    (64, "SO_TIMESTAMPNS_NEW"), (65, "SO_TIMESTAMPING_NEW"), (66, "SO_RCVTIMEO_NEW"),
    (67, "SO_SNDTIMEO_NEW"), (68, "SO_DETACH_REUSEPORT_BPF"), (69, "SO_PREFER_BUSY_POLL"),
    (70, "SO_BUSY_POLL_BUDGET"), (71, "SO_NETNS_COOKIE"), (72, "SO_BUF_LOCK"),
    (73, "SO_RESERVE_MEM"), (74, "SO_TXREHASH"), (75, "SO_RCVMARK"),
];

/// strace's `sockopt_txrehash_vals`.
const TXREHASH: &[(i32, &str)] = &[
    (0, "SOCK_TXREHASH_DISABLED"),
    (1, "SOCK_TXREHASH_ENABLED"),
    (255, "SOCK_TXREHASH_DEFAULT"),
];

/// The option name `name` (the `int` as the kernel sees it) of `level`, for getsockopt when
/// `get` (strace's `print_sockopt_fd_level_name`).
pub fn optname(level: i32, name: u64, get: bool) -> String {
    match level {
        libc::SOL_SOCKET if name == SO_ATTACH_FILTER => {
            let n = if get {
                "SO_GET_FILTER"
            } else {
                "SO_ATTACH_FILTER"
            };
            n.into()
        }
        libc::SOL_SOCKET => flags::xval_string(name, SO_NAMES, "SO_???"),
        libc::SOL_TCP => flags::xval_string(name, flags::TCP_OPT, "TCP_???"),
        // strace prints the other levels' names unsigned.
        _ => (name as u32).to_string(),
    }
}

/// What to print for the value of `(level, name)` with `optlen`.
#[derive(Debug, PartialEq, Eq)]
pub enum Shape {
    /// The pointer.
    Address,
    /// `[-15]`.
    Int,
    /// `{l_onoff=1, l_linger=5}`.
    Linger,
    /// `[SOCK_TXREHASH_ENABLED]`.
    TxRehash,
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

/// Whether strace prints SOL_SOCKET option `name` as an `int`.
fn is_int(name: i32) -> bool {
    SOL_SOCKET_INTS.contains(&name)
}

/// strace's choice for setsockopt (net.c, print_setsockopt). Options it decodes as structs
/// we do not (socket filters, multicast requests, packet rings) show the pointer. Each shape
/// reads only its own size of the value: an `int` needs 4 bytes even when `optlen` is 5.
pub fn shape(level: i32, name: i32, optlen: i32) -> Shape {
    let len = usize::try_from(optlen).unwrap_or(0);
    let int_or_address = if len < INT {
        Shape::Address
    } else {
        Shape::Int
    };
    // A negative length is no `int`'s: the bytes (strace reads `-s` of them).
    let default = if optlen == INT as i32 {
        Shape::Int
    } else {
        Shape::Bytes
    };
    match level {
        libc::SOL_SOCKET => match name {
            libc::SO_LINGER if len < LINGER => Shape::Address,
            libc::SO_LINGER => Shape::Linger,
            libc::SO_ATTACH_FILTER | libc::SO_ATTACH_REUSEPORT_CBPF => Shape::Address,
            libc::SO_TXREHASH if len < INT => Shape::Address,
            libc::SO_TXREHASH => Shape::TxRehash,
            n if is_int(n) => int_or_address,
            _ => default,
        },
        libc::SOL_IP => match name {
            libc::IP_ADD_MEMBERSHIP
            | libc::IP_DROP_MEMBERSHIP
            | libc::MCAST_JOIN_GROUP
            | libc::MCAST_LEAVE_GROUP => Shape::Address,
            _ => default,
        },
        libc::SOL_IPV6 => match name {
            libc::IPV6_ADD_MEMBERSHIP
            | libc::IPV6_DROP_MEMBERSHIP
            | libc::IPV6_JOIN_ANYCAST
            | libc::IPV6_LEAVE_ANYCAST
            | libc::MCAST_JOIN_GROUP
            | libc::MCAST_LEAVE_GROUP => Shape::Address,
            _ => default,
        },
        libc::SOL_PACKET => match name {
            libc::PACKET_RX_RING
            | libc::PACKET_TX_RING
            | libc::PACKET_ADD_MEMBERSHIP
            | libc::PACKET_DROP_MEMBERSHIP => Shape::Address,
            _ => default,
        },
        libc::SOL_RAW if name == ICMP_FILTER => Shape::Address,
        libc::SOL_NETLINK => int_or_address,
        _ => default,
    }
}

/// The `int` the value starts with.
fn int_at(b: &[u8], off: usize) -> Option<i32> {
    Some(i32::from_ne_bytes(b.get(off..off + INT)?.try_into().ok()?))
}

/// `[-15]` from the first bytes of the value.
pub fn int(b: &[u8]) -> Option<Decoded> {
    let v = int_at(b, 0)?;
    Some((format!("[{v}]"), json!(v)))
}

/// `[SOCK_TXREHASH_ENABLED]`, `[2 /* SOCK_TXREHASH_??? */]` (strace's `printxval_d`).
pub fn txrehash(b: &[u8]) -> Option<Decoded> {
    let v = int_at(b, 0)?;
    Some(match TXREHASH.iter().find(|(n, _)| *n == v) {
        Some((_, name)) => (format!("[{name}]"), json!(name)),
        None => (format!("[{v} /* SOCK_TXREHASH_??? */]"), json!(v)),
    })
}

/// `{l_onoff=1, l_linger=5}`.
pub fn linger(b: &[u8]) -> Option<Decoded> {
    let on = int_at(b, 0)?;
    let secs = int_at(b, INT)?;
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
        assert_eq!(shape(sol, libc::SO_REUSEADDR, -1), Shape::Address);
        assert_eq!(shape(sol, libc::SO_RCVTIMEO, 4), Shape::Int);
        assert_eq!(shape(sol, libc::SO_RCVTIMEO, 5), Shape::Bytes);
        assert_eq!(shape(sol, libc::SO_TXREHASH, 3), Shape::Address);
        assert_eq!(shape(sol, libc::SO_TXREHASH, 5), Shape::TxRehash);
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
        let rehash = |v: i32| txrehash(&v.to_ne_bytes()).map(|d| d.0);
        assert_eq!(rehash(255).as_deref(), Some("[SOCK_TXREHASH_DEFAULT]"));
        assert_eq!(rehash(-1).as_deref(), Some("[-1 /* SOCK_TXREHASH_??? */]"));
        assert_eq!(txrehash(&[0, 0]), None);
    }

    #[test]
    fn option_names_as_strace_prints_them() {
        let sol = libc::SOL_SOCKET;
        assert_eq!(optname(sol, 11, true), "SO_NO_CHECK");
        assert_eq!(optname(sol, 29, false), "SO_TIMESTAMP_OLD");
        assert_eq!(optname(sol, 75, false), "SO_RCVMARK");
        assert_eq!(optname(sol, 26, true), "SO_GET_FILTER");
        assert_eq!(optname(sol, 26, false), "SO_ATTACH_FILTER");
        assert_eq!(optname(sol, 76, false), "0x4c /* SO_??? */");
        assert_eq!(optname(sol, 0xffff_ffff, false), "0xffffffff /* SO_??? */");
        assert_eq!(optname(libc::SOL_TCP, 1, false), "TCP_NODELAY");
        assert_eq!(optname(libc::SOL_IP, 0xffff_ffff, false), "4294967295");
    }
}
