//! Socket addresses as strace prints them, from the bytes the kernel wrote or was given and
//! the address length that goes with them: nothing past that length is decoded (a 12-byte
//! AF_INET address is `{sa_family=AF_INET, sa_data="…"}`, not a `sockaddr_in`).
use std::{fmt::Write as _, net::Ipv6Addr};

use super::{escape, flags, flags::table};
use crate::model::event::ArgValue;

/// `sizeof(sa_family_t)`.
const FAMILY: usize = 2;
/// `sizeof(struct sockaddr_storage)`: strace reads no more.
const STORAGE: usize = 128;
/// `sizeof(struct sockaddr_un)`: `sun_path` is 108 bytes.
const SOCKADDR_UN: usize = 110;
/// `sizeof(struct sockaddr_in)`.
const SOCKADDR_IN: usize = 16;
/// `offsetof(struct sockaddr_in6, sin6_scope_id)`: the shortest address decoded as one.
const SIN6_MIN: usize = 24;
/// `sizeof(struct sockaddr_nl)`.
const SOCKADDR_NL: usize = 12;
/// `sizeof(struct sockaddr_ll)`; `sll_addr` (8 bytes) starts at 12.
const SOCKADDR_LL: usize = 20;
const SLL_ADDR: usize = 12;

/// Ethernet protocol numbers (include/uapi/linux/if_ether.h), the ones sockets name.
const ETH_P: flags::Table = table!(
    ETH_P_802_3,
    ETH_P_AX25,
    ETH_P_ALL,
    ETH_P_802_2,
    ETH_P_SNAP,
    ETH_P_DDCMP,
    ETH_P_WAN_PPP,
    ETH_P_PPP_MP,
    ETH_P_LOCALTALK,
    ETH_P_CANFD,
    ETH_P_PPPTALK,
    ETH_P_TR_802_2,
    ETH_P_MOBITEX,
    ETH_P_CONTROL,
    ETH_P_IRDA,
    ETH_P_ECONET,
    ETH_P_HDLC,
    ETH_P_ARCNET,
    ETH_P_DSA,
    ETH_P_TRAILER,
    ETH_P_LOOP,
    ETH_P_PHONET,
    ETH_P_IEEE802154,
    ETH_P_CAIF,
    ETH_P_PUP,
    ETH_P_PUPAT,
    ETH_P_IP,
    ETH_P_X25,
    ETH_P_ARP,
    ETH_P_BPQ,
    ETH_P_IEEEPUP,
    ETH_P_IEEEPUPAT,
    ETH_P_BATMAN,
    ETH_P_DEC,
    ETH_P_DNA_DL,
    ETH_P_DNA_RC,
    ETH_P_DNA_RT,
    ETH_P_LAT,
    ETH_P_DIAG,
    ETH_P_CUST,
    ETH_P_SCA,
    ETH_P_TEB,
    ETH_P_RARP,
    ETH_P_ATALK,
    ETH_P_AARP,
    ETH_P_8021Q,
    ETH_P_IPX,
    ETH_P_IPV6,
    ETH_P_PAUSE,
    ETH_P_SLOW,
    ETH_P_WCCP,
    ETH_P_MPLS_UC,
    ETH_P_MPLS_MC,
    ETH_P_ATMMPOA,
    ETH_P_PPP_DISC,
    ETH_P_PPP_SES,
    ETH_P_LINK_CTL,
    ETH_P_ATMFATE,
    ETH_P_PAE,
    ETH_P_AOE,
    ETH_P_8021AD,
    ETH_P_802_EX1,
    ETH_P_TIPC,
    ETH_P_MACSEC,
    ETH_P_8021AH,
    ETH_P_MVRP,
    ETH_P_1588,
    ETH_P_PRP,
    ETH_P_FCOE,
    ETH_P_TDLS,
    ETH_P_FIP,
    ETH_P_80221,
    ETH_P_LOOPBACK,
    ETH_P_QINQ1,
    ETH_P_QINQ2,
    ETH_P_QINQ3,
    ETH_P_EDSA,
    ETH_P_AF_IUCV,
);

/// Link-layer hardware types (include/uapi/linux/if_arp.h).
const ARPHRD: flags::Table = table!(
    ARPHRD_NETROM,
    ARPHRD_ETHER,
    ARPHRD_EETHER,
    ARPHRD_AX25,
    ARPHRD_PRONET,
    ARPHRD_CHAOS,
    ARPHRD_IEEE802,
    ARPHRD_ARCNET,
    ARPHRD_APPLETLK,
    ARPHRD_DLCI,
    ARPHRD_ATM,
    ARPHRD_METRICOM,
    ARPHRD_IEEE1394,
    ARPHRD_EUI64,
    ARPHRD_INFINIBAND,
    ARPHRD_SLIP,
    ARPHRD_CSLIP,
    ARPHRD_SLIP6,
    ARPHRD_CSLIP6,
    ARPHRD_RSRVD,
    ARPHRD_ADAPT,
    ARPHRD_ROSE,
    ARPHRD_X25,
    ARPHRD_HWX25,
    ARPHRD_CAN,
    ARPHRD_PPP,
    ARPHRD_CISCO,
    ARPHRD_LAPB,
    ARPHRD_DDCMP,
    ARPHRD_RAWHDLC,
    ARPHRD_TUNNEL,
    ARPHRD_TUNNEL6,
    ARPHRD_FRAD,
    ARPHRD_SKIP,
    ARPHRD_LOOPBACK,
    ARPHRD_LOCALTLK,
    ARPHRD_FDDI,
    ARPHRD_BIF,
    ARPHRD_SIT,
    ARPHRD_IPDDP,
    ARPHRD_IPGRE,
    ARPHRD_PIMREG,
    ARPHRD_HIPPI,
    ARPHRD_ASH,
    ARPHRD_ECONET,
    ARPHRD_IRDA,
    ARPHRD_FCPP,
    ARPHRD_FCAL,
    ARPHRD_FCPL,
    ARPHRD_FCFABRIC,
    ARPHRD_IEEE802_TR,
    ARPHRD_IEEE80211,
    ARPHRD_IEEE80211_PRISM,
    ARPHRD_IEEE80211_RADIOTAP,
    ARPHRD_IEEE802154,
    ARPHRD_VOID,
    ARPHRD_NONE,
);

/// `sll_pkttype` (include/uapi/linux/if_packet.h).
const PACKET_TYPE: flags::Table = table!(
    PACKET_HOST,
    PACKET_BROADCAST,
    PACKET_MULTICAST,
    PACKET_OTHERHOST,
    PACKET_OUTGOING,
    PACKET_LOOPBACK,
    PACKET_USER,
    PACKET_KERNEL,
);

/// The address in `b`, `addrlen` bytes long (as the call says; `b` may hold more, or fewer
/// when the capture was cut), as strace's text (when `text`: none for JSON output) and as a
/// JSON object. `None` when strace prints the pointer instead (shorter than a family).
pub fn decode(b: &[u8], addrlen: usize, text: bool) -> Option<(String, ArgValue)> {
    let len = addrlen.min(STORAGE).min(b.len());
    if len < FAMILY {
        return None;
    }
    // Zero past the end, as strace does, so every fixed-offset read below is in bounds.
    let mut buf = [0u8; STORAGE + 1];
    buf[..len].copy_from_slice(&b[..len]);
    let family = u16::from_ne_bytes([buf[0], buf[1]]);
    let fam = match flags::xval_name(u64::from(family), flags::AF) {
        Some(name) => ArgValue::Name(name),
        None => ArgValue::Str(flags::xval_string(u64::from(family), flags::AF, "AF_???")),
    };
    let mut t = Text(text.then(String::new));
    t.push("{sa_family=");
    t.push(fam.as_str().unwrap_or_default());
    let mut j = vec![("family", fam)];
    if len > FAMILY {
        t.push(", ");
        let f = i32::from(family);
        if f == libc::AF_UNIX {
            unix(&buf, len, &mut t, &mut j);
        } else if f == libc::AF_INET && len >= SOCKADDR_IN {
            let port = u16::from_be_bytes([buf[2], buf[3]]);
            let addr = ipv4([buf[4], buf[5], buf[6], buf[7]]);
            t.write(|t| {
                let _ = write!(t, "sin_port=htons({port}), sin_addr=inet_addr(\"{addr}\")");
            });
            j.push(("port", port.into()));
            j.push(("addr", addr.into()));
        } else if f == libc::AF_INET6 && len >= SIN6_MIN {
            let port = u16::from_be_bytes([buf[2], buf[3]]);
            let flow = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
            let mut a = [0u8; 16];
            a.copy_from_slice(&buf[8..24]);
            let addr = Ipv6Addr::from(a).to_string();
            t.write(|t| {
                let _ = write!(
                    t,
                    "sin6_port=htons({port}), sin6_flowinfo=htonl({flow}), inet_pton(AF_INET6, \"{addr}\", &sin6_addr)"
                );
            });
            j.push(("port", port.into()));
            j.push(("addr", addr.into()));
            j.push(("flowinfo", flow.into()));
            if len > SIN6_MIN {
                let scope = u32::from_ne_bytes([buf[24], buf[25], buf[26], buf[27]]);
                t.write(|t| {
                    let _ = write!(t, ", sin6_scope_id={scope}");
                });
                j.push(("scope_id", scope.into()));
            }
        } else if f == libc::AF_NETLINK && len >= SOCKADDR_NL {
            let pad = u16::from_ne_bytes([buf[2], buf[3]]);
            let pid = i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
            let groups = u32::from_ne_bytes([buf[8], buf[9], buf[10], buf[11]]);
            t.write(|t| {
                if pad != 0 {
                    let _ = write!(t, "nl_pad={pad:#x}, ");
                }
                // C's `%#08x`: no `0x` for zero.
                if groups == 0 {
                    let _ = write!(t, "nl_pid={pid}, nl_groups=00000000");
                } else {
                    let _ = write!(t, "nl_pid={pid}, nl_groups={groups:#08x}");
                }
            });
            j.push(("pid", pid.into()));
            j.push(("groups", groups.into()));
        } else if f == libc::AF_PACKET && len >= SOCKADDR_LL {
            packet(&buf, len, &mut t, &mut j);
        } else {
            let data = &buf[FAMILY..len];
            t.write(|t| {
                t.push_str("sa_data=");
                escape::quote(t, data, false);
            });
            j.push(("data_hex", hex(data).into()));
        }
    }
    t.push("}");
    Some((t.0.unwrap_or_default(), ArgValue::Object(j)))
}

/// strace's text, when it is wanted.
struct Text(Option<String>);

impl Text {
    fn push(&mut self, s: &str) {
        if let Some(t) = &mut self.0 {
            t.push_str(s);
        }
    }

    fn write(&mut self, f: impl FnOnce(&mut String)) {
        if let Some(t) = &mut self.0 {
            f(t);
        }
    }
}

/// `127.0.0.1`, as `Ipv4Addr` displays it.
fn ipv4(a: [u8; 4]) -> String {
    let mut s = String::with_capacity(15);
    for (i, b) in a.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        s.push_str(itoa::Buffer::new().format(*b));
    }
    s
}

type Fields = Vec<(&'static str, ArgValue)>;

/// `sll_protocol=htons(ETH_P_ALL), sll_ifindex=1, sll_hatype=ARPHRD_ETHER,
/// sll_pkttype=PACKET_HOST, sll_halen=6, sll_addr=[0x2, …]`: `sll_addr` holds 8 bytes, more
/// are beyond the address (`...`). The interface is shown by number: its name is the traced
/// process's network namespace's, which need not be tracer's.
fn packet(buf: &[u8], len: usize, t: &mut Text, j: &mut Fields) {
    let proto = u16::from_be_bytes([buf[2], buf[3]]);
    let ifindex = u32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
    let hatype = u16::from_ne_bytes([buf[8], buf[9]]);
    let (pkttype, halen) = (buf[10], buf[11]);
    let proto_name = flags::xval_string(u64::from(proto), ETH_P, "ETH_P_???");
    let hatype_name = flags::xval_string(u64::from(hatype), ARPHRD, "ARPHRD_???");
    let pkttype_name = flags::xval_string(u64::from(pkttype), PACKET_TYPE, "PACKET_???");
    let room = len - SLL_ADDR;
    let addr: Vec<u8> = buf[SLL_ADDR..SLL_ADDR + room.min(usize::from(halen))].to_vec();
    t.write(|text| {
        let _ = write!(
            text,
            "sll_protocol=htons({proto_name}), sll_ifindex={ifindex}, sll_hatype={hatype_name}, \
             sll_pkttype={pkttype_name}, sll_halen={halen}"
        );
        if halen > 0 {
            text.push_str(", sll_addr=[");
            for (i, b) in addr.iter().enumerate() {
                if i > 0 {
                    text.push_str(", ");
                }
                // C's `%#x`.
                if *b == 0 {
                    text.push('0');
                } else {
                    let _ = write!(text, "{b:#x}");
                }
            }
            if usize::from(halen) > room {
                text.push_str(", ...");
            }
            text.push(']');
        }
    });
    j.push(("protocol", proto.into()));
    j.push(("ifindex", ifindex.into()));
    j.push(("hatype", hatype_name.into()));
    j.push(("pkttype", pkttype_name.into()));
    j.push(("halen", u32::from(halen).into()));
    j.push(("addr_hex", hex(&addr).into()));
}

/// `sun_path="/run/x.sock"` (up to its NUL, never past the 108 bytes of `sun_path` nor the
/// length), or `sun_path=@"name"` for an abstract name (every byte of the length).
fn unix(buf: &[u8], len: usize, t: &mut Text, j: &mut Fields) {
    let path_len = len.min(SOCKADDR_UN) - FAMILY;
    let path = &buf[FAMILY..FAMILY + path_len];
    let (abstract_, name) = match path.split_first() {
        Some((0, rest)) => (true, rest),
        _ => (false, path.split(|&c| c == 0).next().unwrap_or(path)),
    };
    t.write(|text| {
        text.push_str("sun_path=");
        if abstract_ {
            text.push('@');
        }
        escape::quote(text, name, false);
    });
    let p = escape::json_bytes(name, false);
    j.push(("path", p.value));
    j.push(("abstract", abstract_.into()));
    if let Some(hex) = p.hex {
        j.push(("path_hex", hex.into()));
    }
}

fn hex(b: &[u8]) -> String {
    let mut s = String::new();
    escape::hex_into(&mut s, b);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: &[u8], len: usize) -> String {
        decode(b, len, true)
            .map(|d| d.0)
            .unwrap_or_else(|| "<pointer>".into())
    }

    fn inet() -> Vec<u8> {
        let mut b = vec![2u8, 0, 0, 9, 127, 0, 0, 1];
        b.extend_from_slice(&[0; 8]);
        b
    }

    #[test]
    fn full_addresses() {
        let mut inet8080 = vec![2u8, 0, 0x1f, 0x90, 127, 0, 0, 1];
        inet8080.extend_from_slice(&[0; 8]);
        assert_eq!(
            text(&inet8080, 16),
            r#"{sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}"#
        );
        assert_eq!(
            decode(&inet8080, 16, true).map(|d| d.1.to_json()["port"].clone()),
            Some(8080.into())
        );
        let mut v6 = vec![10u8, 0, 0, 80, 0, 0, 0, 0];
        v6.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        v6.extend_from_slice(&[0; 4]);
        assert_eq!(
            text(&v6, 28),
            r#"{sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}"#
        );
        let mut unix = vec![1u8, 0];
        unix.extend_from_slice(b"/run/x.sock\0\0\0");
        assert_eq!(
            text(&unix, 16),
            r#"{sa_family=AF_UNIX, sun_path="/run/x.sock"}"#
        );
        let abs = [1u8, 0, 0, b'a', b'\n'];
        assert_eq!(text(&abs, 5), r#"{sa_family=AF_UNIX, sun_path=@"a\n"}"#);
        assert_eq!(text(&[1, 0], 2), "{sa_family=AF_UNIX}");
    }

    #[test]
    fn packet_addresses_like_strace() {
        // strace 6.1, tests/net-sockaddr.c.
        let mut b = (libc::AF_PACKET as u16).to_ne_bytes().to_vec();
        b.extend_from_slice(&3u16.to_be_bytes());
        b.extend_from_slice(&0xfacefeedu32.to_ne_bytes());
        b.extend_from_slice(&1u16.to_ne_bytes());
        b.extend_from_slice(&[0, 9]);
        b.extend_from_slice(b"abcdefgh");
        assert_eq!(
            text(&b, 20),
            "{sa_family=AF_PACKET, sll_protocol=htons(ETH_P_ALL), sll_ifindex=4207869677, \
             sll_hatype=ARPHRD_ETHER, sll_pkttype=PACKET_HOST, sll_halen=9, sll_addr=[0x61, \
             0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, ...]}"
        );
        b[11] = 0;
        b[2..4].copy_from_slice(&0x1234u16.to_be_bytes());
        assert_eq!(
            text(&b, 20),
            "{sa_family=AF_PACKET, sll_protocol=htons(0x1234 /* ETH_P_??? */), \
             sll_ifindex=4207869677, sll_hatype=ARPHRD_ETHER, sll_pkttype=PACKET_HOST, \
             sll_halen=0}"
        );
    }

    #[test]
    fn short_and_long_addresses_like_strace() {
        // strace 6.1: connect() with 12, 8, 4, 2 bytes of a sockaddr_in, 20 and 24 of a
        // sockaddr_in6, 8 of a sockaddr_nl.
        let b = inet();
        assert_eq!(
            text(&b, 12),
            r#"{sa_family=AF_INET, sa_data="\0\t\177\0\0\1\0\0\0\0"}"#
        );
        assert_eq!(
            text(&b, 8),
            r#"{sa_family=AF_INET, sa_data="\0\t\177\0\0\1"}"#
        );
        assert_eq!(text(&b, 4), r#"{sa_family=AF_INET, sa_data="\0\t"}"#);
        assert_eq!(text(&b, 2), "{sa_family=AF_INET}");
        assert_eq!(text(&b, 1), "<pointer>");
        assert_eq!(text(&b, 0), "<pointer>");
        let mut v6 = vec![10u8, 0, 0, 9];
        v6.extend_from_slice(&[0; 24]);
        assert_eq!(
            text(&v6, 20),
            r#"{sa_family=AF_INET6, sa_data="\0\t\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"}"#
        );
        assert_eq!(
            text(&v6, 24),
            r#"{sa_family=AF_INET6, sin6_port=htons(9), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::", &sin6_addr)}"#
        );
        let mut nl = vec![16u8, 0, 0, 0, 0, 0, 0, 0];
        nl.extend_from_slice(&0xface_feedu32.to_ne_bytes());
        assert_eq!(
            text(&nl, 12),
            "{sa_family=AF_NETLINK, nl_pid=0, nl_groups=0xfacefeed}"
        );
        assert_eq!(
            text(&nl, 8),
            r#"{sa_family=AF_NETLINK, sa_data="\0\0\0\0\0\0"}"#
        );
        nl[8..12].copy_from_slice(&1u32.to_ne_bytes());
        assert_eq!(
            text(&nl, 12),
            "{sa_family=AF_NETLINK, nl_pid=0, nl_groups=0x000001}"
        );
        nl[8..12].copy_from_slice(&0u32.to_ne_bytes());
        assert_eq!(
            text(&nl, 12),
            "{sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}"
        );
        // Unix paths: cut at the length (recvfrom with a 6-byte buffer) and at 108 bytes.
        let mut un = vec![1u8, 0];
        un.extend_from_slice(b"/tmp/dv/b\0");
        assert_eq!(text(&un, 6), r#"{sa_family=AF_UNIX, sun_path="/tmp"}"#);
        let mut long = vec![1u8, 0];
        long.extend_from_slice(&[b'A'; 126]);
        let a108 = "A".repeat(108);
        assert_eq!(
            text(&long, 114),
            format!(r#"{{sa_family=AF_UNIX, sun_path="{a108}"}}"#)
        );
        let mut abs = vec![1u8, 0, 0];
        abs.extend_from_slice(b"tmp/dv/sock");
        assert_eq!(
            text(&abs, 10),
            r#"{sa_family=AF_UNIX, sun_path=@"tmp/dv/"}"#
        );
        // An unknown family, and a capture shorter than the length: never out of bounds.
        assert_eq!(
            text(&[0x63, 0, 1, 2], 4),
            r#"{sa_family=0x63 /* AF_??? */, sa_data="\1\2"}"#
        );
        for n in 0..200 {
            let _ = decode(&v6[..n.min(v6.len())], n, true);
            let _ = decode(&long[..n.min(long.len())], 1000, false);
        }
    }
}
