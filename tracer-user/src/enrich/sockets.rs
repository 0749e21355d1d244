//! strace's `-yy`: what a socket is connected to (`UNIX-STREAM:[123->124,"/run/x.sock"]`,
//! `TCP:[127.0.0.1:80->127.0.0.1:51234]`), and a device file's numbers
//! (`/dev/null<char 1:3>`).
//!
//! strace asks the kernel while the call is stopped; tracer reads the events after the fact,
//! so two sources are joined:
//!
//! - **sock_diag** (`NETLINK_SOCK_DIAG`), asked inside the network namespace of the traced
//!   process (a netlink socket belongs to the namespace it was created in: one is made per
//!   namespace, on a short-lived thread that `setns`es into it). strace asks in its own
//!   namespace, which from a sidecar or the host misses every socket of a container.
//! - **the trace**, which says what the socket had done *at the time of the call*: the answer
//!   read later can only know more (a bind or connect that came after), so for a socket the
//!   trace saw created, only what the trace shows it had by then is printed: its name after a
//!   successful `bind` (or, for an accepted socket, its listener's), its peer after `connect`
//!   (or from `accept`). A socket the trace did not see created (opened before tracing began,
//!   `socketpair`) is printed as sock_diag sees it.
//!
//! A socket closed before tracer reads it has nothing left to ask about: it is printed as
//! strace prints a socket it cannot resolve, `PROTO:[INODE]`.
use std::{
    collections::HashMap,
    ffi::CString,
    fmt::Write as _,
    net::IpAddr,
    os::fd::{AsRawFd, FromRawFd, OwnedFd},
    os::unix::ffi::OsStrExt,
};

use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_sock_diag::{
    SockDiagMessage,
    inet::{ExtensionFlags, InetRequest, SocketId, StateFlags as InetStates},
    unix::{ShowFlags, StateFlags as UnixStates, UnixRequest, nlas::UnixDiagName},
};

use crate::decode::escape;

/// Sockets remembered; beyond, the state is dropped and sockets start again as unknown.
const MAX_SOCKETS: usize = 1 << 16;
/// Processes whose network namespace is remembered.
const MAX_PROCS: usize = 4096;
/// Network namespaces with an open sock_diag socket.
const MAX_NETNS: usize = 64;
/// Device paths remembered.
const MAX_DEVICES: usize = 4096;

/// The calls that change what `-yy` shows of a socket. With `-yy` and `--syscalls`, the kernel
/// reports these too (the filter stage hides them), beside `fds::followed()`.
pub const FOLLOWED: &[&str] = &[
    "bind", "listen", "connect", "sendto", "sendmsg", "sendmmsg", "shutdown",
];

/// Those whose exit wakes the reader at once with `-yy` (beside `fds::CREATES`): sock_diag is
/// asked about the socket when the event is read.
pub const WAKE: &[&str] = &["bind", "listen", "connect"];

/// A socket protocol as the kernel names it (`system.sockprotoname`), with where sock_diag
/// finds its sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proto {
    pub name: &'static str,
    family: u8,
    ipproto: u8,
}

const AF_UNIX: u8 = libc::AF_UNIX as u8;
const AF_INET: u8 = libc::AF_INET as u8;
const AF_INET6: u8 = libc::AF_INET6 as u8;
const AF_NETLINK: u8 = libc::AF_NETLINK as u8;

const fn p(name: &'static str, family: u8, ipproto: u8) -> Proto {
    Proto {
        name,
        family,
        ipproto,
    }
}

/// The names strace resolves (its socketutils.c protocol list); others stay `socket:[…]`.
const PROTOS: &[Proto] = &[
    p("UNIX", AF_UNIX, 0),
    p("UNIX-STREAM", AF_UNIX, 0),
    p("TCP", AF_INET, libc::IPPROTO_TCP as u8),
    p("UDP", AF_INET, libc::IPPROTO_UDP as u8),
    p("UDPLITE", AF_INET, libc::IPPROTO_UDPLITE as u8),
    p("DCCP", AF_INET, libc::IPPROTO_DCCP as u8),
    p("SCTP", AF_INET, libc::IPPROTO_SCTP as u8),
    p("L2TP/IP", AF_INET, 115),
    p("PING", AF_INET, libc::IPPROTO_ICMP as u8),
    p("RAW", AF_INET, libc::IPPROTO_RAW as u8),
    p("TCPv6", AF_INET6, libc::IPPROTO_TCP as u8),
    p("UDPv6", AF_INET6, libc::IPPROTO_UDP as u8),
    p("UDPLITEv6", AF_INET6, libc::IPPROTO_UDPLITE as u8),
    p("DCCPv6", AF_INET6, libc::IPPROTO_DCCP as u8),
    p("SCTPv6", AF_INET6, libc::IPPROTO_SCTP as u8),
    p("L2TP/IPv6", AF_INET6, 115),
    p("PINGv6", AF_INET6, libc::IPPROTO_ICMP as u8),
    p("RAWv6", AF_INET6, libc::IPPROTO_RAW as u8),
    p("NETLINK", AF_NETLINK, 0),
];

impl Proto {
    pub fn by_name(name: &[u8]) -> Option<Proto> {
        PROTOS.iter().copied().find(|p| p.name.as_bytes() == name)
    }

    /// What the kernel names a socket made by `socket(domain, type, protocol)`, where that is
    /// fixed by the arguments.
    pub fn of_socket(domain: u64, kind: u64, protocol: u64) -> Option<Proto> {
        let kind = kind as i32 & 0xf;
        let protocol = protocol as i32;
        let v6 = match domain as i32 {
            libc::AF_UNIX => {
                let n = if kind == libc::SOCK_STREAM {
                    "UNIX-STREAM"
                } else {
                    "UNIX"
                };
                return Proto::by_name(n.as_bytes());
            }
            libc::AF_NETLINK => return Proto::by_name(b"NETLINK"),
            libc::AF_INET => false,
            libc::AF_INET6 => true,
            _ => return None,
        };
        let base = match (kind, protocol) {
            (libc::SOCK_STREAM, 0 | libc::IPPROTO_TCP) => "TCP",
            (libc::SOCK_DGRAM, 0 | libc::IPPROTO_UDP) => "UDP",
            (libc::SOCK_DGRAM, libc::IPPROTO_UDPLITE) => "UDPLITE",
            (libc::SOCK_DGRAM, libc::IPPROTO_ICMP | libc::IPPROTO_ICMPV6) => "PING",
            (libc::SOCK_STREAM | libc::SOCK_SEQPACKET, libc::IPPROTO_SCTP) => "SCTP",
            (libc::SOCK_DCCP, _) => "DCCP",
            (libc::SOCK_RAW, _) => "RAW",
            _ => return None,
        };
        let name = if v6 {
            format!("{base}v6")
        } else {
            base.to_string()
        };
        Proto::by_name(name.as_bytes())
    }
}

/// What sock_diag says of one socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Details {
    Unix {
        /// The peer's inode, 0 for none.
        peer: u32,
        /// The bound name: a path, or an abstract name starting with a NUL byte.
        name: Option<Vec<u8>>,
    },
    Inet {
        src: (IpAddr, u16),
        /// `None` when the peer is all zeroes (not connected).
        dst: Option<(IpAddr, u16)>,
    },
}

/// A device file: block or character, major, minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    pub block: bool,
    pub major: u32,
    pub minor: u32,
}

/// What the kernel says now. A trait so the socket state can be tested on made-up streams.
pub trait SocketSource {
    /// `system.sockprotoname` of `tgid`'s fd `fd`, if it is still socket `ino`.
    fn protocol(&mut self, tgid: u32, fd: i32, ino: u64) -> Option<Proto>;
    /// sock_diag's answer for socket `ino` of `proto` in `tgid`'s network namespace.
    fn details(&mut self, tgid: u32, ino: u64, proto: Proto) -> Option<Details>;
    /// `path` in `tgid`'s root, if it is a device file.
    fn device(&mut self, tgid: u32, path: &[u8]) -> Option<Device>;
}

/// How the trace saw a socket come to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Created by a call the trace saw: only what the trace shows it had counts.
    Traced,
    /// Already there, or made by a call the trace does not follow: sock_diag's word.
    Unknown,
}

#[derive(Debug, Clone)]
struct Sock {
    proto: Option<Proto>,
    origin: Origin,
    /// Bound (or autobound by a send), or accepted from a named listener.
    named: bool,
    /// Connected, or accepted.
    connected: bool,
    /// sock_diag's answer since the trace last showed a change; `None`: not asked yet.
    asked: Option<Option<Details>>,
    /// The answer lacks what the trace says is there (a connected unix socket's peer, whose
    /// inode exists only once the other side has accepted): asked again next time.
    retry: bool,
}

impl Sock {
    /// Keeps sock_diag's answer `d`, to be asked again if it is short of the trace's state.
    fn answer(&mut self, d: Option<Details>) {
        self.retry = self.origin == Origin::Traced
            && self.connected
            && self.proto.is_some_and(|p| p.family == AF_UNIX)
            && !matches!(d, Some(Details::Unix { peer, .. }) if peer != 0);
        self.asked = Some(d);
    }
}

/// strace's `-yy` state: sockets by inode, and the source asked about them.
pub struct Sockets {
    source: Box<dyn SocketSource + Send>,
    socks: HashMap<u64, Sock>,
    devices: HashMap<(u32, Vec<u8>), Option<Device>>,
}

/// `socket:[INODE]`'s inode.
pub fn inode_of(path: &[u8]) -> Option<u64> {
    std::str::from_utf8(path.strip_prefix(b"socket:[")?.strip_suffix(b"]")?)
        .ok()?
        .parse()
        .ok()
        .filter(|&i| i != 0)
}

const EINPROGRESS: i64 = -(libc::EINPROGRESS as i64);

impl Sockets {
    pub fn new(source: Box<dyn SocketSource + Send>) -> Self {
        Sockets {
            source,
            socks: HashMap::new(),
            devices: HashMap::new(),
        }
    }

    fn sock(&mut self, tgid: u32, fd: i32, ino: u64) -> &mut Sock {
        if self.socks.len() >= MAX_SOCKETS && !self.socks.contains_key(&ino) {
            self.socks.clear();
        }
        let source = &mut self.source;
        self.socks.entry(ino).or_insert_with(|| Sock {
            proto: source.protocol(tgid, fd, ino),
            origin: Origin::Unknown,
            named: false,
            connected: false,
            asked: None,
            retry: false,
        })
    }

    /// How `-yy` shows `tgid`'s fd `fd`, which `-y` names `path`; `None`: as `-y` does.
    pub fn show(&mut self, tgid: u32, fd: i32, path: &[u8]) -> Option<String> {
        let Some(ino) = inode_of(path) else {
            return self.show_device(tgid, path);
        };
        let s = self.sock(tgid, fd, ino);
        let proto = s.proto?;
        if s.asked.is_none() || s.retry {
            let d = self.source.details(tgid, ino, proto);
            self.socks.get_mut(&ino)?.answer(d);
        }
        let s = self.socks.get(&ino)?;
        Some(render(proto, ino, s))
    }

    fn show_device(&mut self, tgid: u32, path: &[u8]) -> Option<String> {
        if !path.starts_with(b"/") {
            return None;
        }
        if self.devices.len() >= MAX_DEVICES {
            self.devices.clear();
        }
        let key = (tgid, path.to_vec());
        let dev = match self.devices.get(&key) {
            Some(d) => *d,
            None => {
                let d = self.source.device(tgid, path);
                self.devices.insert(key, d);
                d
            }
        }?;
        let q = escape::quoted(path, false);
        Some(format!(
            "{}<{} {}:{}>",
            &q[1..q.len() - 1],
            if dev.block { "block" } else { "char" },
            dev.major,
            dev.minor
        ))
    }

    /// What a finished call did to the sockets it names: `arg0` is what `-y` names its first
    /// argument, `ret` what it names the fd it returned.
    pub fn after(
        &mut self,
        name: &str,
        call: (u32, &[u64; 6], Option<i64>),
        arg0: Option<&[u8]>,
        ret: Option<&[u8]>,
    ) {
        let (tgid, args, result) = call;
        let Some(result) = result else { return };
        let ok = result >= 0;
        let arg_ino = arg0.and_then(inode_of);
        let ret_ino = ret.and_then(inode_of);
        let ret_fd = result as i32;
        match name {
            "socket" if ok => {
                if let Some(ino) = ret_ino {
                    let s = self.sock(tgid, ret_fd, ino);
                    s.proto = s.proto.or(Proto::of_socket(args[0], args[1], args[2]));
                    s.origin = Origin::Traced;
                    s.named = false;
                    s.connected = false;
                    s.asked = None;
                }
            }
            "accept" | "accept4" if ok => {
                let listener = arg_ino.and_then(|i| self.socks.get(&i)).cloned();
                if let Some(ino) = ret_ino {
                    let s = self.sock(tgid, ret_fd, ino);
                    if let Some(l) = listener {
                        s.proto = s.proto.or(l.proto);
                        // The accepted socket has its listener's address.
                        s.named = l.origin == Origin::Unknown || l.named;
                    } else {
                        s.named = true;
                    }
                    s.origin = Origin::Traced;
                    s.connected = true;
                    s.asked = None;
                }
            }
            "bind" if ok => self.change(tgid, arg_ino, |s| {
                s.named = true;
                true
            }),
            "listen" | "shutdown" if ok => self.change(tgid, arg_ino, |_| true),
            "connect" if ok || result == EINPROGRESS => self.change(tgid, arg_ino, |s| {
                s.connected = true;
                // connect gives an inet socket its local address, and a unix one with
                // SO_PASSCRED an autobound name: sock_diag's name counts from here.
                s.named = true;
                true
            }),
            "sendto" | "sendmsg" | "sendmmsg" if ok => self.change(tgid, arg_ino, |s| {
                // An unbound inet socket is given a port by its first send.
                let autobind = s.proto.is_some_and(|p| p.family != AF_UNIX) && !s.named;
                s.named |= autobind;
                autobind
            }),
            _ => {}
        }
    }

    /// The trace shows `ino` changed (`f` says whether it did): sock_diag is asked again now,
    /// while the event is fresh and the socket most likely still there.
    fn change(&mut self, tgid: u32, ino: Option<u64>, f: impl FnOnce(&mut Sock) -> bool) {
        let Some(ino) = ino else { return };
        let Sockets { source, socks, .. } = self;
        if let Some(s) = socks.get_mut(&ino)
            && f(s)
        {
            let d = s.proto.and_then(|p| source.details(tgid, ino, p));
            s.answer(d);
        }
    }
}

/// strace's rendering of socket `ino`, limited to what the trace shows it had.
fn render(proto: Proto, ino: u64, s: &Sock) -> String {
    let all = s.origin == Origin::Unknown;
    let mut out = format!("{}:[", proto.name);
    match s.asked.as_ref().and_then(Option::as_ref) {
        Some(Details::Unix { peer, name }) => {
            let _ = write!(out, "{ino}");
            if *peer != 0 && (all || s.connected) {
                let _ = write!(out, "->{peer}");
            }
            if let Some(n) = name.as_ref().filter(|_| all || s.named) {
                out.push(',');
                match n.split_first() {
                    Some((0, rest)) => {
                        out.push('@');
                        escape::quote(&mut out, cut_at_nul(rest), false);
                    }
                    _ => escape::quote(&mut out, cut_at_nul(n), false),
                }
            }
        }
        Some(Details::Inet { src, dst }) if all || s.named || s.connected => {
            inet(&mut out, *src);
            if let Some(d) = dst.filter(|_| all || s.connected) {
                out.push_str("->");
                inet(&mut out, d);
            }
        }
        _ => {
            let _ = write!(out, "{ino}");
        }
    }
    out.push(']');
    out
}

fn cut_at_nul(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |i| &b[..i])
}

fn inet(out: &mut String, (addr, port): (IpAddr, u16)) {
    let _ = match addr {
        IpAddr::V4(a) => write!(out, "{a}:{port}"),
        IpAddr::V6(a) => write!(out, "[{a}]:{port}"),
    };
}

/// The kernel's answers: /proc, and sock_diag in each process's network namespace.
#[derive(Default)]
pub struct Kernel {
    /// tgid → its network namespace's inode.
    netns_of: HashMap<u32, u64>,
    /// Network namespace inode → a sock_diag socket made inside it (`None`: could not).
    diag: HashMap<u64, Option<OwnedFd>>,
}

fn proc_fd(tgid: u32, fd: i32) -> Option<CString> {
    CString::new(format!("/proc/{tgid}/fd/{fd}")).ok()
}

fn link(path: &CString) -> Option<Vec<u8>> {
    std::fs::read_link(std::ffi::OsStr::from_bytes(path.as_bytes()))
        .ok()
        .map(|p| p.as_os_str().as_bytes().to_vec())
}

impl Kernel {
    fn netns(&mut self, tgid: u32) -> Option<u64> {
        if let Some(n) = self.netns_of.get(&tgid) {
            return Some(*n);
        }
        if self.netns_of.len() >= MAX_PROCS {
            self.netns_of.clear();
        }
        let ino = std::fs::metadata(format!("/proc/{tgid}/ns/net"))
            .ok()
            .map(|m| std::os::unix::fs::MetadataExt::ino(&m))?;
        self.netns_of.insert(tgid, ino);
        Some(ino)
    }

    /// A sock_diag socket in `tgid`'s network namespace.
    fn diag_socket(&mut self, tgid: u32) -> Option<libc::c_int> {
        let ns = self.netns(tgid)?;
        if !self.diag.contains_key(&ns) {
            if self.diag.len() >= MAX_NETNS {
                self.diag.clear();
            }
            let fd = diag_socket_in(tgid, ns);
            self.diag.insert(ns, fd);
        }
        self.diag.get(&ns)?.as_ref().map(AsRawFd::as_raw_fd)
    }
}

fn new_diag_socket() -> Option<OwnedFd> {
    // SAFETY: plain socket(2); the fd is owned from here on.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    };
    // SAFETY: a new fd nothing else owns.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A sock_diag socket created inside `tgid`'s network namespace `ns`: ours if it is the same,
/// else made on a thread that joins it (a network namespace is per thread; the socket keeps
/// the namespace it was made in).
fn diag_socket_in(tgid: u32, ns: u64) -> Option<OwnedFd> {
    let own = std::fs::metadata("/proc/self/ns/net")
        .ok()
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m));
    if own == Some(ns) {
        return new_diag_socket();
    }
    let nsfile = std::fs::File::open(format!("/proc/{tgid}/ns/net")).ok()?;
    std::thread::Builder::new()
        .name("tracer-netns".into())
        .spawn(move || {
            // SAFETY: setns on this thread only, with an fd we own.
            if unsafe { libc::setns(nsfile.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return None;
            }
            new_diag_socket()
        })
        .ok()?
        .join()
        .ok()?
}

fn ask(fd: libc::c_int, msg: SockDiagMessage, dump: bool) -> Option<Vec<u8>> {
    // Whatever an earlier answer left (a dump cut short by a message we could not parse).
    continue_drain(fd, &mut [0u8; 4096]);
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | if dump { NLM_F_DUMP } else { 0 };
    let mut packet = NetlinkMessage::new(header, msg.into());
    packet.finalize();
    let mut buf = vec![0u8; packet.buffer_len()];
    packet.serialize(&mut buf);
    // SAFETY: a valid buffer of its length.
    let sent = unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), 0) };
    (sent == buf.len() as isize).then_some(buf)
}

/// Reads answers until `done` says so, a dump ends, or an error; each message to `each`.
fn answers(fd: libc::c_int, mut each: impl FnMut(&SockDiagMessage) -> bool) {
    let mut buf = vec![0u8; 32 << 10];
    loop {
        // SAFETY: a valid buffer of its length.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n <= 0 {
            return;
        }
        let mut rest = &buf[..n as usize];
        while !rest.is_empty() {
            let Ok(m) = NetlinkMessage::<SockDiagMessage>::deserialize(rest) else {
                return;
            };
            let len = m.header.length as usize;
            match &m.payload {
                // Found: drain what is left of a dump, the socket is reused.
                NetlinkPayload::InnerMessage(inner) if each(inner) => {
                    continue_drain(fd, &mut buf);
                    return;
                }
                NetlinkPayload::Done(_) | NetlinkPayload::Error(_) => return,
                _ => {}
            }
            if len == 0 || len > rest.len() {
                return;
            }
            rest = &rest[len.next_multiple_of(4).min(rest.len())..];
        }
    }
}

/// Reads and drops the rest of a dump whose answer was found (until its Done).
fn continue_drain(fd: libc::c_int, buf: &mut [u8]) {
    loop {
        // SAFETY: a valid buffer; non-blocking: stop when the kernel has nothing more.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
        if n <= 0 {
            return;
        }
    }
}

impl SocketSource for Kernel {
    fn protocol(&mut self, tgid: u32, fd: i32, ino: u64) -> Option<Proto> {
        let path = proc_fd(tgid, fd)?;
        let name = CString::new("system.sockprotoname").ok()?;
        let mut buf = [0u8; 64];
        // SAFETY: valid C strings and a buffer of its length.
        let n = unsafe {
            libc::getxattr(
                path.as_ptr(),
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if n <= 0 {
            return None;
        }
        // The fd must still be the socket the trace names.
        let expect = format!("socket:[{ino}]");
        if link(&path)? != expect.as_bytes() {
            return None;
        }
        Proto::by_name(cut_at_nul(&buf[..n as usize]))
    }

    fn details(&mut self, tgid: u32, ino: u64, proto: Proto) -> Option<Details> {
        let fd = self.diag_socket(tgid)?;
        let ino32 = u32::try_from(ino).ok()?;
        let mut found = None;
        match proto.family {
            AF_UNIX => {
                let req = SockDiagMessage::UnixRequest(UnixRequest {
                    state_flags: UnixStates::all(),
                    inode: ino32,
                    show_flags: ShowFlags::NAME | ShowFlags::PEER,
                    cookie: [0xff; 8],
                });
                ask(fd, req, false)?;
                answers(fd, |m| {
                    if let SockDiagMessage::UnixResponse(r) = m
                        && r.header.inode == ino32
                    {
                        let name = r.name().map(|n| match n {
                            UnixDiagName::Pathname(p) => p.as_bytes().to_vec(),
                            UnixDiagName::Abstract(a) => {
                                let mut v = vec![0];
                                v.extend_from_slice(a);
                                v
                            }
                        });
                        let peer = r.peer().unwrap_or(0);
                        if peer != 0 || name.is_some() {
                            found = Some(Details::Unix { peer, name });
                        }
                    }
                    true
                });
            }
            AF_INET | AF_INET6 => {
                let req = SockDiagMessage::InetRequest(InetRequest {
                    family: proto.family,
                    protocol: proto.ipproto,
                    extensions: ExtensionFlags::empty(),
                    states: InetStates::all(),
                    socket_id: if proto.family == AF_INET {
                        SocketId::new_v4()
                    } else {
                        SocketId::new_v6()
                    },
                });
                ask(fd, req, true)?;
                answers(fd, |m| {
                    let SockDiagMessage::InetResponse(r) = m else {
                        return false;
                    };
                    if r.header.inode != ino32 {
                        return false;
                    }
                    let id = &r.header.socket_id;
                    let dst = (id.destination_port != 0
                        || !id.destination_address.is_unspecified())
                    .then_some((id.destination_address, id.destination_port));
                    found = Some(Details::Inet {
                        src: (id.source_address, id.source_port),
                        dst,
                    });
                    true
                });
            }
            _ => {}
        }
        found
    }

    fn device(&mut self, tgid: u32, path: &[u8]) -> Option<Device> {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let mut full = format!("/proc/{tgid}/root").into_bytes();
        full.extend_from_slice(path);
        let m = std::fs::metadata(std::ffi::OsStr::from_bytes(&full)).ok()?;
        let t = m.file_type();
        if !t.is_block_device() && !t.is_char_device() {
            return None;
        }
        let rdev = m.rdev();
        Some(Device {
            block: t.is_block_device(),
            major: libc::major(rdev),
            minor: libc::minor(rdev),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    /// sock_diag and /proc as a test sets them.
    #[derive(Default)]
    struct Fake {
        protos: HashMap<u64, Proto>,
        details: HashMap<u64, Details>,
        asked: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }

    impl SocketSource for Fake {
        fn protocol(&mut self, _: u32, _: i32, ino: u64) -> Option<Proto> {
            self.protos.get(&ino).copied()
        }
        fn details(&mut self, _: u32, ino: u64, _: Proto) -> Option<Details> {
            self.asked
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.details.get(&ino).cloned()
        }
        fn device(&mut self, _: u32, path: &[u8]) -> Option<Device> {
            (path == b"/dev/full").then_some(Device {
                block: false,
                major: 1,
                minor: 7,
            })
        }
    }

    fn unix_stream() -> Proto {
        Proto::by_name(b"UNIX-STREAM").expect("known")
    }

    #[test]
    fn protocols_from_socket_arguments() {
        let name = |d, t, p| Proto::of_socket(d, t, p).map(|p| p.name);
        assert_eq!(name(1, 1, 0), Some("UNIX-STREAM"));
        assert_eq!(name(1, 2 | 0o2000000, 0), Some("UNIX"));
        assert_eq!(name(2, 1 | 0o4000, 6), Some("TCP"));
        assert_eq!(name(10, 2, 0), Some("UDPv6"));
        assert_eq!(name(2, 2, 1), Some("PING"));
        assert_eq!(name(16, 3, 0), Some("NETLINK"));
        assert_eq!(name(17, 3, 0), None);
    }

    #[test]
    fn a_traced_unix_socket_shows_what_it_had_at_each_call() {
        // sock_diag (asked after the fact) knows the final state: bound and connected.
        let mut f = Fake::default();
        f.details.insert(
            11,
            Details::Unix {
                peer: 12,
                name: Some(b"/tmp/s".to_vec()),
            },
        );
        let asked = f.asked.clone();
        let mut s = Sockets::new(Box::new(f));
        let args = [1, 1, 0, 0, 0, 0];
        s.after("socket", (7, &args, Some(3)), None, Some(b"socket:[11]"));
        assert_eq!(
            s.show(7, 3, b"socket:[11]").as_deref(),
            Some("UNIX-STREAM:[11]")
        );
        s.after("bind", (7, &[3; 6], Some(0)), Some(b"socket:[11]"), None);
        assert_eq!(
            s.show(7, 3, b"socket:[11]").as_deref(),
            Some("UNIX-STREAM:[11,\"/tmp/s\"]")
        );
        s.after("connect", (7, &[3; 6], Some(0)), Some(b"socket:[11]"), None);
        assert_eq!(
            s.show(7, 3, b"socket:[11]").as_deref(),
            Some("UNIX-STREAM:[11->12,\"/tmp/s\"]")
        );
        // A send changes nothing sock_diag would say of a unix socket: not asked again (it
        // may be gone by the time its close is read).
        let before = asked.load(std::sync::atomic::Ordering::Relaxed);
        s.after("sendto", (7, &[3; 6], Some(4)), Some(b"socket:[11]"), None);
        assert!(s.show(7, 3, b"socket:[11]").is_some());
        assert_eq!(asked.load(std::sync::atomic::Ordering::Relaxed), before);
    }

    #[test]
    fn a_connected_unix_socket_without_its_peer_yet_is_asked_again() {
        // sock_diag names no peer until the other side has accepted.
        let mut f = Fake::default();
        f.details.insert(
            60,
            Details::Unix {
                peer: 0,
                name: None,
            },
        );
        let asked = f.asked.clone();
        let mut s = Sockets::new(Box::new(f));
        s.after(
            "socket",
            (1, &[1, 1, 0, 0, 0, 0], Some(4)),
            None,
            Some(b"socket:[60]"),
        );
        s.after("connect", (1, &[4; 6], Some(0)), Some(b"socket:[60]"), None);
        let n = asked.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            s.show(1, 4, b"socket:[60]").as_deref(),
            Some("UNIX-STREAM:[60]")
        );
        assert_eq!(asked.load(std::sync::atomic::Ordering::Relaxed), n + 1);
    }

    #[test]
    fn an_accepted_socket_has_its_peer_and_its_listener_s_name() {
        let mut f = Fake::default();
        f.protos.insert(20, unix_stream());
        f.details.insert(
            20,
            Details::Unix {
                peer: 0,
                name: Some(b"/tmp/l".to_vec()),
            },
        );
        f.details.insert(
            22,
            Details::Unix {
                peer: 21,
                name: Some(b"/tmp/l".to_vec()),
            },
        );
        let mut s = Sockets::new(Box::new(f));
        // The listener predates the trace: sock_diag's word.
        assert_eq!(
            s.show(7, 3, b"socket:[20]").as_deref(),
            Some("UNIX-STREAM:[20,\"/tmp/l\"]")
        );
        s.after(
            "accept4",
            (7, &[3; 6], Some(5)),
            Some(b"socket:[20]"),
            Some(b"socket:[22]"),
        );
        assert_eq!(
            s.show(7, 5, b"socket:[22]").as_deref(),
            Some("UNIX-STREAM:[22->21,\"/tmp/l\"]")
        );
    }

    #[test]
    fn abstract_and_hostile_names_are_escaped() {
        let mut f = Fake::default();
        f.protos.insert(30, Proto::by_name(b"UNIX").expect("known"));
        f.details.insert(
            30,
            Details::Unix {
                peer: 0,
                name: Some(b"\0ab\"\n\xff".to_vec()),
            },
        );
        let mut s = Sockets::new(Box::new(f));
        assert_eq!(
            s.show(1, 3, b"socket:[30]").as_deref(),
            Some("UNIX:[30,@\"ab\\\"\\n\\377\"]")
        );
    }

    #[test]
    fn inet_sockets_show_addresses_once_bound_or_connected() {
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let mut f = Fake::default();
        f.details.insert(
            40,
            Details::Inet {
                src: (lo, 5000),
                dst: Some((lo, 80)),
            },
        );
        let asked = f.asked.clone();
        let mut s = Sockets::new(Box::new(f));
        s.after(
            "socket",
            (1, &[2, 1, 0, 0, 0, 0], Some(4)),
            None,
            Some(b"socket:[40]"),
        );
        assert_eq!(s.show(1, 4, b"socket:[40]").as_deref(), Some("TCP:[40]"));
        assert_eq!(s.show(1, 4, b"socket:[40]").as_deref(), Some("TCP:[40]"));
        assert_eq!(
            asked.load(std::sync::atomic::Ordering::Relaxed),
            1,
            "cached"
        );
        s.after(
            "connect",
            (1, &[4; 6], Some(EINPROGRESS)),
            Some(b"socket:[40]"),
            None,
        );
        assert_eq!(
            s.show(1, 4, b"socket:[40]").as_deref(),
            Some("TCP:[127.0.0.1:5000->127.0.0.1:80]")
        );
        assert_eq!(asked.load(std::sync::atomic::Ordering::Relaxed), 2);
    }

    #[test]
    fn unresolved_sockets_and_devices() {
        let mut s = Sockets::new(Box::new(Fake::default()));
        // No protocol: as -y prints it.
        assert_eq!(s.show(1, 3, b"socket:[50]"), None);
        s.after(
            "socket",
            (1, &[10, 2, 0, 0, 0, 0], Some(3)),
            None,
            Some(b"socket:[51]"),
        );
        assert_eq!(s.show(1, 3, b"socket:[51]").as_deref(), Some("UDPv6:[51]"));
        assert_eq!(
            s.show(1, 9, b"/dev/full").as_deref(),
            Some("/dev/full<char 1:7>")
        );
        assert_eq!(s.show(1, 9, b"/etc/hosts"), None);
        assert_eq!(s.show(1, 9, b"pipe:[3]"), None);
        assert_eq!(inode_of(b"socket:[x]"), None);
        assert_eq!(inode_of(b"socket:[0]"), None);
    }
}
