//! strace 6.1's text for argument fixtures (registers and captured bytes).
use super::*;
use crate::decode::{Enter, tests as fixtures};
use tracer_common::capture::CAPF_TRUNCATED;

fn event(name: &str, args: [u64; 6], ret: i64, captures: Vec<Capture>) -> SyscallEvent {
    let mut ev =
        crate::decode::decode(&fixtures::bytes(&fixtures::record(0, 0, ret))).expect("decodes");
    ev.nr = syscalls::number(name).expect("known syscall");
    ev.args = args;
    ev.captures = captures;
    ev.enter = Enter::Seen;
    ev
}

fn cap(arg: u8, kind: u8, data: &[u8]) -> Capture {
    Capture {
        arg,
        kind,
        flags: 0,
        index: 0,
        data: data.to_vec(),
    }
}

fn line(ev: &SyscallEvent) -> String {
    let d = decode(ev);
    shown_in_order(&d)
        .into_iter()
        .map(|a| a.text.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

const AT_FDCWD: u64 = -100i64 as u64;

#[test]
fn openat_with_path_and_flags() {
    let ev = event(
        "openat",
        [
            AT_FDCWD,
            0x5555,
            (libc::O_RDONLY | libc::O_CLOEXEC) as u64,
            0,
            0,
            0,
        ],
        3,
        vec![cap(1, CAP_STR, b"/etc/hosts")],
    );
    assert_eq!(line(&ev), r#"AT_FDCWD, "/etc/hosts", O_RDONLY|O_CLOEXEC"#);
    let d = decode(&ev);
    assert_eq!(d[1].json.value.to_json(), "/etc/hosts");
    assert_eq!(d[2].json.value.to_json(), "O_RDONLY|O_CLOEXEC");
    assert!(!d[3].shown, "mode hidden without O_CREAT");
    let ev = event(
        "openat",
        [
            AT_FDCWD,
            0x5555,
            (libc::O_WRONLY | libc::O_CREAT) as u64,
            0o600,
            0,
            0,
        ],
        3,
        vec![cap(1, CAP_STR, b"x")],
    );
    assert_eq!(line(&ev), r#"AT_FDCWD, "x", O_WRONLY|O_CREAT, 0600"#);
}

#[test]
fn buffers_are_quoted_and_cut() {
    let ev = event(
        "write",
        [1, 0x10, 100, 0, 0, 0],
        100,
        vec![cap(1, CAP_BUF_IN, b"hello\n")],
    );
    assert_eq!(line(&ev), r#"1, "hello\n"..., 100"#);
    let mut c = cap(1, CAP_BUF_OUT, b"GET / HTTP/1.1\r\n");
    c.flags = CAPF_TRUNCATED;
    let ev = event("read", [4, 0x10, 1024, 0, 0, 0], 78, vec![c]);
    assert_eq!(line(&ev), r#"4, "GET / HTTP/1.1\r\n"..., 1024"#);
    // A failed read shows the pointer, as strace does.
    let ev = event("read", [4, 0x10, 1024, 0, 0, 0], -11, vec![]);
    assert_eq!(line(&ev), "4, 0x10, 1024");
}

#[test]
fn socket_calls() {
    let ev = event(
        "socket",
        [
            2,
            (libc::SOCK_STREAM | libc::SOCK_CLOEXEC) as u64,
            6,
            0,
            0,
            0,
        ],
        3,
        vec![],
    );
    assert_eq!(line(&ev), "AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP");
    let mut sa = vec![2u8, 0, 0x1f, 0x90, 127, 0, 0, 1];
    sa.extend_from_slice(&[0; 8]);
    let ev = event(
        "connect",
        [3, 0x10, 16, 0, 0, 0],
        0,
        vec![cap(1, CAP_SOCKADDR_IN, &sa)],
    );
    assert_eq!(
        line(&ev),
        r#"3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}, 16"#
    );
    let ev = event(
        "setsockopt",
        [4, 6, 1, 0x10, 4, 0],
        0,
        vec![cap(3, CAP_BUF_IN, &1i32.to_ne_bytes())],
    );
    assert_eq!(line(&ev), "4, SOL_TCP, TCP_NODELAY, [1], 4");
}

#[test]
fn clone_like_strace() {
    let flags = (libc::CLONE_CHILD_CLEARTID | libc::CLONE_CHILD_SETTID) as u64 | 17;
    let ev = event("clone", [flags, 0, 0, 0x7f00, 0, 0], 42, vec![]);
    assert_eq!(
        line(&ev),
        "child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f00"
    );
}

#[test]
fn argv_and_iovec() {
    let mut a = cap(1, CAP_ARGV, b"nginx");
    let mut b = cap(1, CAP_ARGV, b"-g");
    b.index = 1;
    let mut more = cap(1, CAP_ARGV, b"");
    more.index = 16;
    more.flags = CAPF_TRUNCATED;
    a.index = 0;
    let ev = event(
        "execve",
        [0x1, 0x2, 0x3, 0, 0, 0],
        0,
        vec![cap(0, CAP_STR, b"/usr/sbin/nginx"), a, b, more],
    );
    assert_eq!(line(&ev), r#""/usr/sbin/nginx", ["nginx", "-g", ...], 0x3"#);
    assert_eq!(decode(&ev)[1].json.hex, None, "all UTF-8: no hex");
    let mut bad = cap(1, CAP_ARGV, b"\xff\x1b");
    bad.index = 1;
    let mut first = cap(1, CAP_ARGV, b"a");
    first.index = 0;
    let ev = event("execve", [0x1, 0x2, 0, 0, 0, 0], 0, vec![first, bad]);
    let argv = &decode(&ev)[1];
    assert_eq!(
        argv.json.value.to_json(),
        serde_json::json!(["a", "\u{fffd}\u{1b}"])
    );
    assert_eq!(argv.json.hex.as_deref(), Some("6100ff1b00"));
    let mut arr = Vec::new();
    arr.extend_from_slice(&0x1000u64.to_ne_bytes());
    arr.extend_from_slice(&180u64.to_ne_bytes());
    let mut data = cap(1, CAP_IOV_DATA, b"HTTP/1.1 304 Not Modified\r\nServe");
    data.index = 0;
    let ev = event(
        "writev",
        [4, 0x10, 1, 0, 0, 0],
        180,
        vec![cap(1, CAP_IOV_IN, &arr), data],
    );
    assert_eq!(
        line(&ev),
        r#"4, [{iov_base="HTTP/1.1 304 Not Modified\r\nServe"..., iov_len=180}], 1"#
    );
}

const HI: u64 = 0x0def_aced_0000_0000;

#[test]
fn narrow_arguments_lose_the_upper_register_bits() {
    // strace 6.1 on registers with 0xdefaced in the upper half (see the commit message).
    let ev = event(
        "faccessat2",
        [HI | 0xffff_ffff, 0, HI | 4, HI, 0, 0],
        -14,
        vec![],
    );
    assert_eq!(line(&ev), "-1, NULL, R_OK, 0");
    let d = decode(&ev);
    assert_eq!(d[0].raw, HI | 0xffff_ffff, "raw stays the register");
    assert_eq!(d[0].json.value.to_json(), -1);
    let ev = event("fcntl", [HI, HI | 15, 0, 0, 0, 0], -14, vec![]);
    assert_eq!(line(&ev), "0, F_SETOWN_EX, NULL");
    let ev = event("fcntl", [HI, HI | 1, 0, 0, 0, 0], 0, vec![]);
    assert_eq!(line(&ev), "0, F_GETFD");
    let ev = event("fcntl", [0, 1234, 0, 0, 0, 0], -22, vec![]);
    assert_eq!(line(&ev), "0, 0x4d2 /* F_??? */, 0");
    let ev = event("fcntl", [0, -5i64 as u64, 0, 0, 0, 0], -22, vec![]);
    assert_eq!(line(&ev), "0, 0xfffffffb /* F_??? */, 0");
    let ev = event(
        "creat",
        [0x10, HI, 0, 0, 0, 0],
        -2,
        vec![cap(0, CAP_STR, b"/nonexistent/x")],
    );
    assert_eq!(line(&ev), r#""/nonexistent/x", 000"#);
    let kill = |sig: u64| {
        line(&event(
            "kill",
            [HI | 0x7fff_ffff, sig, 0, 0, 0, 0],
            -3,
            vec![],
        ))
    };
    assert_eq!(kill(HI), "2147483647, 0");
    assert_eq!(kill(HI | 15), "2147483647, SIGTERM");
    assert_eq!(kill(32), "2147483647, SIGRTMIN");
    assert_eq!(kill(34), "2147483647, SIGRT_2");
    assert_eq!(kill(64), "2147483647, SIGRT_32");
    assert_eq!(kill(65), "2147483647, 65");
    assert_eq!(kill(u64::MAX), "2147483647, -1");
    let ev = event("clock_gettime", [HI | 1, 0, 0, 0, 0, 0], -14, vec![]);
    assert_eq!(line(&ev), "CLOCK_MONOTONIC, NULL");
    let ev = event("clock_gettime", [99, 0, 0, 0, 0, 0], -22, vec![]);
    assert_eq!(line(&ev), "0x63 /* CLOCK_??? */, NULL");
    let ev = event("getrlimit", [HI | 7, 0, 0, 0, 0, 0], -14, vec![]);
    assert_eq!(line(&ev), "RLIMIT_NOFILE, NULL");
    let ev = event("getrlimit", [HI | 0x10, 0, 0, 0, 0, 0], -22, vec![]);
    assert_eq!(line(&ev), "0x10 /* RLIMIT_??? */, NULL");
    let ev = event("setuid", [HI | 0xffff_fffe, 0, 0, 0, 0, 0], 0, vec![]);
    assert_eq!(line(&ev), "4294967294");
    let ev = event("umask", [HI | 0o22, 0, 0, 0, 0, 0], 0o22, vec![]);
    assert_eq!(line(&ev), "022");
    // long, size_t and off_t keep all 64 bits.
    let ev = event("lseek", [12345, HI | 5, HI | 1, 0, 0, 0], -9, vec![]);
    assert_eq!(line(&ev), "12345, 1004211375834136581, SEEK_CUR");
    let ev = event("read", [HI | 12345, 0, HI | 5, 0, 0, 0], -9, vec![]);
    assert_eq!(line(&ev), "12345, NULL, 1004211375834136581");
    let ev = event(
        "dup3",
        [HI | 12345, HI | 12346, HI | 0o2000000, 0, 0, 0],
        -9,
        vec![],
    );
    assert_eq!(line(&ev), "12345, 12346, O_CLOEXEC");
    let ev = event("rt_sigprocmask", [HI | 2, 0, 0, 8, 0, 0], 0, vec![]);
    assert_eq!(line(&ev), "SIG_SETMASK, NULL, NULL, 8");
    let ev = event("rt_sigprocmask", [9, 0, 0, 8, 0, 0], 0, vec![]);
    assert_eq!(line(&ev), "0x9 /* SIG_??? */, NULL, NULL, 8");
    let ev = event("prctl", [12345, 0, 0, 0, 0, 0], -22, vec![]);
    assert_eq!(line(&ev), "0x3039 /* PR_??? */, 0, 0, 0, 0");
    let ev = event("ioctl", [0, 0x1234, 0, 0, 0, 0], -25, vec![]);
    assert_eq!(line(&ev), "0, _IOC(_IOC_NONE, 0x12, 0x34, 0), 0");
    let ev = event("ioctl", [0, 0xc010_5401, 0x7ffd, 0, 0, 0], -25, vec![]);
    assert_eq!(
        line(&ev),
        "0, _IOC(_IOC_READ|_IOC_WRITE, 0x54, 0x1, 0x10), 0x7ffd"
    );
    let ev = event("socket", [99, 0xe, 0, 0, 0, 0], -97, vec![]);
    assert_eq!(line(&ev), "0x63 /* AF_??? */, 0xe /* SOCK_??? */, 0");
    let ev = event("socket", [2, 1, 99, 0, 0, 0], -93, vec![]);
    assert_eq!(line(&ev), "AF_INET, SOCK_STREAM, 0x63 /* IPPROTO_??? */");
    let ev = event("wait4", [u64::MAX, 0, 2, 0, 0, 0], -10, vec![]);
    assert_eq!(line(&ev), "-1, NULL, WSTOPPED, NULL");
}

#[test]
fn wait4_status_only_when_a_pid_returned() {
    let status = |s: u32| cap(1, CAP_STRUCT_OUT, &s.to_ne_bytes());
    let ev = event(
        "wait4",
        [20929, 0x7ffc, 1, 0, 0, 0],
        0,
        vec![status(0x137f)],
    );
    assert_eq!(line(&ev), "20929, 0x7ffc, WNOHANG, NULL");
    let ev = event(
        "wait4",
        [20929, 0x7ffc, 8, 0, 0, 0],
        20929,
        vec![status(0xffff)],
    );
    assert_eq!(line(&ev), "20929, [{WIFCONTINUED(s)}], WCONTINUED, NULL");
    let ev = event(
        "wait4",
        [20929, 0x7ffc, 2, 0, 0, 0],
        20929,
        vec![status(0x137f)],
    );
    assert_eq!(
        line(&ev),
        "20929, [{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}], WSTOPPED, NULL"
    );
    let ev = event(
        "wait4",
        [20930, 0x7ffc, 0x4000_0000, 0, 0, 0],
        20930,
        vec![status(3 << 8)],
    );
    assert_eq!(
        line(&ev),
        "20930, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], __WALL, NULL"
    );
}

#[test]
fn open_shows_a_mode_only_with_o_creat_or_tmpfile() {
    let open = |flags: i32, mode: u64| {
        line(&event(
            "openat",
            [AT_FDCWD, 0x10, flags as u64, mode, 0, 0],
            3,
            vec![cap(1, CAP_STR, b"/tmp")],
        ))
    };
    // `ls` opening a directory: O_DIRECTORY is part of O_TMPFILE, but not the bit that
    // takes a mode.
    assert_eq!(
        open(
            libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_DIRECTORY,
            0
        ),
        r#"AT_FDCWD, "/tmp", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY"#
    );
    assert_eq!(
        open(libc::O_RDWR | libc::O_TMPFILE, 0o600),
        r#"AT_FDCWD, "/tmp", O_RDWR|O_TMPFILE, 0600"#
    );
    assert_eq!(
        open(libc::O_RDWR | 0o20000000, 0o600),
        r#"AT_FDCWD, "/tmp", O_RDWR|__O_TMPFILE, 0600"#
    );
    let ev = event(
        "openat",
        [
            HI | AT_FDCWD,
            0x10,
            HI | libc::O_CREAT as u64,
            HI | 0o600,
            0,
            0,
        ],
        6,
        vec![cap(1, CAP_STR, b"/tmpx")],
    );
    assert_eq!(line(&ev), r#"AT_FDCWD, "/tmpx", O_RDONLY|O_CREAT, 0600"#);
    let ev = event(
        "open",
        [0x10, 0xffff_ffff, 0o600, 0, 0, 0],
        -20,
        vec![cap(0, CAP_STR, b"/tmpx")],
    );
    assert_eq!(
        line(&ev),
        r#""/tmpx", O_ACCMODE|O_CREAT|O_EXCL|O_NOCTTY|O_TRUNC|O_APPEND|O_NONBLOCK|O_SYNC|O_DIRECT|O_LARGEFILE|O_NOFOLLOW|O_NOATIME|O_CLOEXEC|O_PATH|O_TMPFILE|FASYNC|0xff80003c, 0600"#
    );
}

#[test]
fn strings_are_cut_at_the_string_size() {
    // strace -s 8: `execve("../pwrite", ["../pwrit"..., "../pwrit", "../pwri",
    // "../pwr12"...], …)`. The kernel captured size + 1 bytes of the long ones.
    let arg = |k: u8, s: &[u8], cut: bool| {
        let mut c = cap(1, CAP_ARGV, s);
        c.index = k;
        c.flags = if cut { CAPF_TRUNCATED } else { 0 };
        c
    };
    let ev = event(
        "execve",
        [0x1, 0x2, 0x3, 0, 0, 0],
        -2,
        vec![
            cap(0, CAP_STR, b"../pwrite"),
            arg(0, b"../pwrite", true),
            arg(1, b"../pwrit", false),
            arg(2, b"../pwri", false),
            arg(3, b"../pwr123", true),
        ],
    );
    assert_eq!(
        line(&ev),
        r#""../pwrite", ["../pwrit"..., "../pwrit", "../pwri", "../pwr12"...], 0x3"#
    );
    let d = decode(&ev);
    assert_eq!(
        d[1].json.value.to_json(),
        serde_json::json!(["../pwrit", "../pwrit", "../pwri", "../pwr12"])
    );
    // strace -s 4: buffers hold at most 4 bytes, `...` only when there was more.
    let mut c = cap(1, CAP_BUF_OUT, b"# Lo");
    c.flags = CAPF_TRUNCATED;
    let ev = event("read", [3, 0x10, 4096, 0, 0, 0], 2996, vec![c]);
    assert_eq!(line(&ev), r##"3, "# Lo"..., 4096"##);
    let ev = event(
        "write",
        [1, 0x10, 3, 0, 0, 0],
        3,
        vec![cap(1, CAP_BUF_IN, b"vm\n")],
    );
    assert_eq!(line(&ev), r#"1, "vm\n", 3"#);
    // Paths are never cut by -s: `openat(AT_FDCWD, "/etc/hostname", O_RDONLY)`.
    let ev = event(
        "openat",
        [AT_FDCWD, 0x10, 0, 0, 0, 0],
        3,
        vec![cap(1, CAP_STR, b"/etc/hostname")],
    );
    assert_eq!(line(&ev), r#"AT_FDCWD, "/etc/hostname", O_RDONLY"#);
}

#[test]
fn socket_addresses_only_as_long_as_the_kernel_wrote() {
    let mut un = vec![1u8, 0];
    un.extend_from_slice(b"/tmp/dv/b\0\0\0");
    // recvfrom(5, "x", 16, 0, {sa_family=AF_UNIX, sun_path="/tmp"}, [6 => 12]) = 1: the
    // kernel wrote 6 bytes of a 12-byte address (and the capture holds no more).
    let ev = event(
        "recvfrom",
        [5, 0x10, 16, 0, 0x20, 0x30],
        1,
        vec![
            cap(5, CAP_STRUCT_IN, &6u32.to_ne_bytes()),
            cap(1, CAP_BUF_OUT, b"x"),
            cap(5, CAP_SOCKLEN_OUT, &12u32.to_ne_bytes()),
            cap(4, CAP_SOCKADDR_OUT, &un[..6]),
        ],
    );
    assert_eq!(
        line(&ev),
        r#"5, "x", 16, 0, {sa_family=AF_UNIX, sun_path="/tmp"}, [6 => 12]"#
    );
    // recvfrom(3, "hi", 16, 0, 0x7fff58e0edc0, [2 => 0]) = 2
    let ev = event(
        "recvfrom",
        [3, 0x10, 16, 0, 0x7fff_58e0_edc0, 0x30],
        2,
        vec![
            cap(5, CAP_STRUCT_IN, &2u32.to_ne_bytes()),
            cap(1, CAP_BUF_OUT, b"hi"),
            cap(5, CAP_SOCKLEN_OUT, &0u32.to_ne_bytes()),
            cap(4, CAP_SOCKADDR_OUT, b""),
        ],
    );
    assert_eq!(line(&ev), r#"3, "hi", 16, 0, 0x7fff58e0edc0, [2 => 0]"#);
    // strace 6.1, tests/fixtures/capture.c: getsockname with its socklen_t in the last bytes
    // of a page: `getsockname(3, {sa_family=AF_UNIX, sun_path="getsockname.socket"},
    // [110 => 21]) = 0`. The length is the returned one, not the capture's.
    let mut sock = vec![1u8, 0];
    sock.extend_from_slice(b"getsockname.socket\0");
    let ev = event(
        "getsockname",
        [3, 0x7000, 0x7ffc, 0, 0, 0],
        0,
        vec![
            cap(2, CAP_STRUCT_IN, &110u32.to_ne_bytes()),
            cap(2, CAP_SOCKLEN_OUT, &21u32.to_ne_bytes()),
            cap(1, CAP_SOCKADDR_OUT, &sock),
        ],
    );
    assert_eq!(
        line(&ev),
        r#"3, {sa_family=AF_UNIX, sun_path="getsockname.socket"}, [110 => 21]"#
    );
    // The address unreadable: its pointer, and still the returned length.
    let mut fault = cap(1, CAP_SOCKADDR_OUT, b"");
    fault.flags = tracer_common::capture::CAPF_FAULT;
    let ev = event(
        "getsockname",
        [3, 0x7000, 0x7ffc, 0, 0, 0],
        0,
        vec![
            cap(2, CAP_STRUCT_IN, &110u32.to_ne_bytes()),
            cap(2, CAP_SOCKLEN_OUT, &21u32.to_ne_bytes()),
            fault,
        ],
    );
    assert_eq!(line(&ev), "3, 0x7000, [110 => 21]");
    // A buffer shorter than the address: `recvfrom(3, "ping", 8, 0, {sa_family=AF_UNIX,
    // sun_path="a-rather-long-"}, [16 => 35]) = 4`.
    let mut long = vec![1u8, 0];
    long.extend_from_slice(b"a-rather-long-");
    let ev = event(
        "recvfrom",
        [3, 0x10, 8, 0, 0x20, 0x30],
        4,
        vec![
            cap(5, CAP_STRUCT_IN, &16u32.to_ne_bytes()),
            cap(1, CAP_BUF_OUT, b"ping"),
            cap(5, CAP_SOCKLEN_OUT, &35u32.to_ne_bytes()),
            cap(4, CAP_SOCKADDR_OUT, &long),
        ],
    );
    assert_eq!(
        line(&ev),
        r#"3, "ping", 8, 0, {sa_family=AF_UNIX, sun_path="a-rather-long-"}, [16 => 35]"#
    );
    // connect(7, {sa_family=AF_INET, sa_data="\0\t\177\0\0\1\0\0\0\0"}, 12)
    let inet = [2u8, 0, 0, 9, 127, 0, 0, 1, 0, 0, 0, 0];
    let ev = event(
        "connect",
        [7, 0x10, 12, 0, 0, 0],
        -22,
        vec![cap(1, CAP_SOCKADDR_IN, &inet)],
    );
    assert_eq!(
        line(&ev),
        r#"7, {sa_family=AF_INET, sa_data="\0\t\177\0\0\1\0\0\0\0"}, 12"#
    );
    let ev = event(
        "connect",
        [7, 0x10, 1, 0, 0, 0],
        -22,
        vec![cap(1, CAP_SOCKADDR_IN, &inet[..1])],
    );
    assert_eq!(line(&ev), "7, 0x10, 1");
    // bind(8, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=0xfacefeed}, 12) = 0
    let mut nl = vec![16u8, 0, 0, 0, 0, 0, 0, 0];
    nl.extend_from_slice(&0xface_feedu32.to_ne_bytes());
    let ev = event(
        "bind",
        [8, 0x10, 12, 0, 0, 0],
        0,
        vec![cap(1, CAP_SOCKADDR_IN, &nl)],
    );
    assert_eq!(
        line(&ev),
        "8, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=0xfacefeed}, 12"
    );
}

#[test]
fn setsockopt_values_match_their_length() {
    let opt = |level: u64, name: u64, val: &[u8], len: u64| {
        line(&event(
            "setsockopt",
            [7, level, name, 0x7fff_58e0_ec40, len, 0],
            0,
            vec![cap(3, CAP_BUF_IN, val)],
        ))
    };
    let v = (-15i32).to_ne_bytes();
    let (sol, linger, reuse) = (1, libc::SO_LINGER as u64, libc::SO_REUSEADDR as u64);
    assert_eq!(
        opt(sol, linger, &v, 4),
        "7, SOL_SOCKET, SO_LINGER, 0x7fff58e0ec40, 4"
    );
    let mut l = 1i32.to_ne_bytes().to_vec();
    l.extend_from_slice(&5i32.to_ne_bytes());
    assert_eq!(
        opt(sol, linger, &l, 8),
        "7, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=5}, 8"
    );
    assert_eq!(
        opt(sol, reuse, &v[..2], 2),
        "7, SOL_SOCKET, SO_REUSEADDR, 0x7fff58e0ec40, 2"
    );
    let mut v8 = v.to_vec();
    v8.extend_from_slice(&[0; 4]);
    assert_eq!(
        opt(sol, reuse, &v8, 8),
        "7, SOL_SOCKET, SO_REUSEADDR, [-15], 8"
    );
    assert_eq!(
        opt(sol, libc::SO_RCVTIMEO as u64, &v, 4),
        "7, SOL_SOCKET, SO_RCVTIMEO_OLD, [-15], 4"
    );
    assert_eq!(
        opt(sol, 1234, &v, 4),
        "7, SOL_SOCKET, 0x4d2 /* SO_??? */, [-15], 4"
    );
    assert_eq!(opt(6, 1, &v, 4), "7, SOL_TCP, TCP_NODELAY, [-15], 4");
    assert_eq!(
        opt(6, 1, &v[..2], 2),
        r#"7, SOL_TCP, TCP_NODELAY, "\361\377", 2"#
    );
    // The registers' upper halves are not part of an int.
    assert_eq!(
        opt(HI | 6, HI | 1, &v, HI | 4),
        "7, SOL_TCP, TCP_NODELAY, [-15], 4"
    );
}

#[test]
fn setsockopt_values_need_only_their_own_bytes() {
    // strace 6.1, tests/so_linger.c and sockopt-sol_socket.c: a value 4 (or 8) bytes before an
    // unmapped page with optlen one more. The read of optlen bytes faults; a capture cut
    // short at the fault (flagged faulted and short: 1 << 3) still holds the value's bytes.
    let short = |data: &[u8]| Capture {
        flags: tracer_common::capture::CAPF_FAULT | 1 << 3,
        ..cap(3, CAP_BUF_IN, data)
    };
    let opt = |name: i32, c: Capture, len: u64| {
        line(&event(
            "setsockopt",
            [3, 1, name as u64, 0x7fff_f7fb_cffc, len, 0],
            0,
            vec![c],
        ))
    };
    let v = 1234567890i32.to_ne_bytes();
    assert_eq!(
        opt(libc::SO_DEBUG, short(&v), 5),
        "3, SOL_SOCKET, SO_DEBUG, [1234567890], 5"
    );
    let mut l = (-15i32).to_ne_bytes().to_vec();
    l.extend_from_slice(&(-42i32).to_ne_bytes());
    assert_eq!(
        opt(libc::SO_LINGER, short(&l), 9),
        "3, SOL_SOCKET, SO_LINGER, {l_onoff=-15, l_linger=-42}, 9"
    );
    assert_eq!(
        opt(libc::SO_TXREHASH, short(&1i32.to_ne_bytes()), 5),
        "3, SOL_SOCKET, SO_TXREHASH, [SOCK_TXREHASH_ENABLED], 5"
    );
    // Fewer bytes than the value: the pointer; so for bytes strace prints whole.
    assert_eq!(
        opt(libc::SO_LINGER, short(&l[..4]), 9),
        "3, SOL_SOCKET, SO_LINGER, 0x7ffff7fbcffc, 9"
    );
    assert_eq!(
        opt(libc::SO_TYPE, short(&v), 5),
        "3, SOL_SOCKET, SO_TYPE, 0x7ffff7fbcffc, 5"
    );
    assert_eq!(
        opt(libc::SO_TYPE, cap(3, CAP_BUF_IN, &v[..3]), 5),
        "3, SOL_SOCKET, SO_TYPE, 0x7ffff7fbcffc, 5"
    );
    // A read that failed whole (no bytes).
    let mut fault = cap(3, CAP_BUF_IN, b"");
    fault.flags = tracer_common::capture::CAPF_FAULT;
    assert_eq!(
        opt(libc::SO_DEBUG, fault, 5),
        "3, SOL_SOCKET, SO_DEBUG, 0x7ffff7fbcffc, 5"
    );
    assert_eq!(
        opt(libc::SO_TYPE, cap(3, CAP_BUF_IN, b"\x00\x00\x00"), 3),
        r#"3, SOL_SOCKET, SO_TYPE, "\0\0\0", 3"#
    );
    // optlen -1: strace reads -s bytes and more; the kernel capture is cut at -s.
    let mut cut = cap(3, CAP_BUF_IN, &[0; 32]);
    cut.flags = CAPF_TRUNCATED;
    assert_eq!(
        opt(libc::SO_TYPE, cut, 0xffff_ffff),
        format!(r#"3, SOL_SOCKET, SO_TYPE, "{}"..., -1"#, r"\0".repeat(32))
    );
}

#[test]
fn getsockopt_value_and_length_in_and_out() {
    // strace 6.1, tests/so_error.c, so_peercred.c, so_linger.c, sockopt-sol_socket.c.
    let get = |name: i32, ret: i64, caps: Vec<Capture>| {
        line(&event(
            "getsockopt",
            [4, 1, name as u64, 0x7fff_f7fb_cffc, 0x7fff_ffff_e54c, 0],
            ret,
            caps,
        ))
    };
    let n = |v: i32| v.to_ne_bytes();
    let e = n(libc::ECONNREFUSED);
    let ok = |ulen: i32, rlen: i32, val: &[u8]| {
        vec![
            cap(4, CAP_STRUCT_IN, &n(ulen)),
            cap(4, CAP_SOCKLEN_OUT, &n(rlen)),
            cap(3, CAP_SOCKADDR_OUT, val),
        ]
    };
    assert_eq!(
        get(libc::SO_ERROR, 0, ok(4, 4, &e)),
        "4, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]"
    );
    assert_eq!(
        get(libc::SO_ERROR, 0, ok(5, 4, &e)),
        "4, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [5 => 4]"
    );
    assert_eq!(
        get(libc::SO_ERROR, 0, ok(3, 3, &e[..3])),
        r#"4, SOL_SOCKET, SO_ERROR, "\x6f\x00\x00", [3]"#
    );
    assert_eq!(
        get(libc::SO_ERROR, 0, ok(0, 0, b"")),
        "4, SOL_SOCKET, SO_ERROR, 0x7ffff7fbcffc, [0]"
    );
    // A failed call: nothing read at exit.
    assert_eq!(
        get(libc::SO_ERROR, -22, vec![cap(4, CAP_STRUCT_IN, &n(-1))]),
        "4, SOL_SOCKET, SO_ERROR, 0x7ffff7fbcffc, [-1]"
    );
    // optlen unreadable at enter: both pointers.
    let mut fault = cap(4, CAP_STRUCT_IN, b"");
    fault.flags = tracer_common::capture::CAPF_FAULT;
    assert_eq!(
        get(libc::SO_LINGER, -14, vec![fault]),
        "4, SOL_SOCKET, SO_LINGER, 0x7ffff7fbcffc, 0x7fffffffe54c"
    );
    // The value unreadable at exit: its pointer, the lengths still.
    let mut unreadable = ok(8, 8, b"");
    unreadable[2].flags = tracer_common::capture::CAPF_FAULT;
    assert_eq!(
        get(libc::SO_LINGER, 0, unreadable),
        "4, SOL_SOCKET, SO_LINGER, 0x7ffff7fbcffc, [8]"
    );
    let mut u = n(17413).to_vec();
    u.extend_from_slice(&[0; 8]);
    assert_eq!(
        get(libc::SO_PEERCRED, 0, ok(13, 12, &u)),
        "4, SOL_SOCKET, SO_PEERCRED, {pid=17413, uid=0, gid=0}, [13 => 12]"
    );
    assert_eq!(
        get(libc::SO_PEERCRED, 0, ok(7, 7, &u[..7])),
        r#"4, SOL_SOCKET, SO_PEERCRED, {pid=17413, uid="\x00\x00\x00"}, [7]"#
    );
    // NULL optval: nothing read at exit, the length passed in.
    let null = event(
        "getsockopt",
        [4, 1, libc::SO_DEBUG as u64, 0, 0x7fff_ffff_e54c, 0],
        0,
        vec![cap(4, CAP_STRUCT_IN, &n(0))],
    );
    assert_eq!(line(&null), "4, SOL_SOCKET, SO_DEBUG, NULL, [0]");
    assert_eq!(
        get(libc::SO_TYPE, 0, ok(5, 4, &n(5))),
        "4, SOL_SOCKET, SO_TYPE, [5], [5 => 4]"
    );
    assert_eq!(
        get(26, 0, ok(8, 8, &[0; 8])),
        "4, SOL_SOCKET, SO_GET_FILTER, 0x7ffff7fbcffc, [8]"
    );
}

#[test]
fn arch_prctl_getrandom_setns_like_strace() {
    let l = |name: &str, args: [u64; 6], ret: i64| line(&event(name, args, ret, vec![]));
    assert_eq!(
        l("arch_prctl", [0x1002, 0, 0, 0, 0, 0], 0),
        "ARCH_SET_FS, 0"
    );
    assert_eq!(
        l("arch_prctl", [0x1002, 0x7f12_3456_7740, 0, 0, 0, 0], 0),
        "ARCH_SET_FS, 0x7f1234567740"
    );
    assert_eq!(
        l("arch_prctl", [0x1003, 0, 0, 0, 0, 0], -14),
        "ARCH_GET_FS, NULL"
    );
    assert_eq!(
        l("arch_prctl", [0x3001, 0, 0, 0, 0, 0], -22),
        "0x3001 /* ARCH_??? */, 0"
    );
    assert_eq!(
        l("arch_prctl", [0x1011, 0, 0, 0, 0, 0], 1),
        "ARCH_GET_CPUID"
    );
    assert_eq!(
        l("getrandom", [0, 0, HI | 3, 0, 0, 0], 0),
        "NULL, 0, GRND_NONBLOCK|GRND_RANDOM"
    );
    assert_eq!(
        l("getrandom", [0, 0, 0x17, 0, 0, 0], -22),
        "NULL, 0, GRND_NONBLOCK|GRND_RANDOM|GRND_INSECURE|0x10"
    );
    assert_eq!(
        l("setns", [HI | 12345, HI | 0x4000_0000, 0, 0, 0, 0], -9),
        "12345, CLONE_NEWNET"
    );
    assert_eq!(l("setns", [12345, 0, 0, 0, 0, 0], -9), "12345, 0");
    assert_eq!(
        l("setns", [12345, 7, 0, 0, 0, 0], -9),
        "12345, 0x7 /* CLONE_NEW??? */"
    );
}

#[test]
fn unknown_numbers_get_six_hex_arguments() {
    let mut ev = event("getppid", [1, 2, 3, 4, 5, 6], 0, vec![]);
    ev.nr = 999;
    assert_eq!(line(&ev), "0x1, 0x2, 0x3, 0x4, 0x5, 0x6");
}

#[test]
fn file_modes_devices_and_small_flag_sets_like_strace() {
    let l = |name: &str, args: [u64; 6], ret: i64| line(&event(name, args, ret, vec![]));
    // Lines of strace 6.1's tests/mknod.c and mknodat.c (path arguments not captured here).
    assert_eq!(
        l("mknod", [0x1000, 0, 0xbadc0ded, 0, 0, 0], -17),
        "0x1000, 000"
    );
    assert_eq!(
        l("mknod", [0x1000, 0o177777, 0, 0, 0, 0], -22),
        "0x1000, 0177777"
    );
    assert_eq!(
        l("mknod", [0x1000, 0o100000, 0, 0, 0, 0], -17),
        "0x1000, S_IFREG|000"
    );
    assert_eq!(
        l("mknod", [0x1000, 0o40006, 0, 0, 0, 0], -1),
        "0x1000, S_IFDIR|006"
    );
    assert_eq!(
        l("mknod", [0x1000, 0o20024, 0x107, 0, 0, 0], -17),
        "0x1000, S_IFCHR|024, makedev(0x1, 0x7)"
    );
    assert_eq!(
        l(
            "mknodat",
            [HI | 0xffff_ffff, 0x1000, 0o67777, 0xbadc0ded, 0, 0],
            -9
        ),
        "-1, 0x1000, S_IFBLK|S_ISUID|S_ISGID|S_ISVTX|0777, makedev(0xc0d, 0xbaded)"
    );
    assert_eq!(
        l("fallocate", [0, 0xdead_ca75, 0, 0, 0, 0], -9),
        "0, FALLOC_FL_KEEP_SIZE|FALLOC_FL_NO_HIDE_STALE|FALLOC_FL_ZERO_RANGE|FALLOC_FL_INSERT_RANGE|FALLOC_FL_UNSHARE_RANGE|0xdeadca00, 0, 0"
    );
    assert_eq!(
        l("flock", [HI | 0xffff_ffff, 1, 0, 0, 0, 0], -9),
        "-1, LOCK_SH"
    );
    assert_eq!(
        l("tee", [0, 1, 2, 0xf, 0, 0], -9),
        "0, 1, 2, SPLICE_F_MOVE|SPLICE_F_NONBLOCK|SPLICE_F_MORE|SPLICE_F_GIFT"
    );
    assert_eq!(
        l("inotify_init1", [0x80800, 0, 0, 0, 0, 0], 3),
        "IN_NONBLOCK|IN_CLOEXEC"
    );
    assert_eq!(
        l(
            "mlock2",
            [0xface_feed_dead_beef, 5, 0xffff_ffff, 0, 0, 0],
            -22
        ),
        "0xfacefeeddeadbeef, 5, MLOCK_ONFAULT|0xfffffffe"
    );
    assert_eq!(
        l("getpriority", [1, 24474, 0, 0, 0, 0], 20),
        "PRIO_PGRP, 24474"
    );
    assert_eq!(
        l("sched_get_priority_max", [2, 0, 0, 0, 0, 0], 99),
        "SCHED_RR"
    );
    assert_eq!(
        l("memfd_create", [0, 0x7800_0000, 0, 0, 0, 0], -22),
        "NULL, 30<<MFD_HUGE_SHIFT"
    );
    assert_eq!(
        l("memfd_create", [0, 0xffff_ffff, 0, 0, 0, 0], -22),
        "NULL, MFD_CLOEXEC|MFD_ALLOW_SEALING|MFD_HUGETLB|0x3fffff8|63<<MFD_HUGE_SHIFT"
    );
}

#[test]
fn close_range_and_vectored_offsets_like_strace() {
    let l = |name: &str, args: [u64; 6], ret: i64| line(&event(name, args, ret, vec![]));
    // strace 6.1's tests/close_range.c and preadv.c.
    assert_eq!(
        l(
            "close_range",
            [HI | 0xffff_fffe, 0xffff_ffff, 1, 0, 0, 0],
            -22
        ),
        "4294967294, 4294967295, 0x1 /* CLOSE_RANGE_??? */"
    );
    assert_eq!(
        l("close_range", [0, 0xffff_fffc, 0xffff_ffff, 0, 0, 0], -22),
        "0, 4294967292, CLOSE_RANGE_UNSHARE|CLOSE_RANGE_CLOEXEC|0xfffffff9"
    );
    assert_eq!(
        l("preadv", [0, 0, 1, u64::MAX - 1, 0, 0], -22),
        "0, NULL, 1, -2"
    );
    assert_eq!(
        l("pwritev2", [0, 0, 1, 7, 0, 0x11], -22),
        "0, NULL, 1, 7, RWF_HIPRI|RWF_APPEND"
    );
}

/// A `struct user_msghdr` (64-bit layout) as captured.
fn msghdr_bytes(name: u64, namelen: u32, iov: u64, iovlen: u64) -> Vec<u8> {
    let mut m = Vec::new();
    for w in [name, u64::from(namelen), iov, iovlen, 0, 0, 0] {
        m.extend_from_slice(&w.to_ne_bytes());
    }
    m
}

#[test]
fn recvmsg_namelen_in_and_out() {
    // strace 6.1, tests/fixtures/capture.c: `recvmsg(3, {msg_name={sa_family=AF_UNIX,
    // sun_path="a-rather-long-send"}, msg_namelen=20 => 35, msg_iov=[{iov_base="pang",
    // iov_len=16}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 4`: the name decoded
    // over the 20 bytes the kernel wrote.
    let mut name = vec![1u8, 0];
    name.extend_from_slice(b"a-rather-long-send");
    let mut iov = Vec::new();
    iov.extend_from_slice(&0x3000u64.to_ne_bytes());
    iov.extend_from_slice(&16u64.to_ne_bytes());
    let mut data = cap(1, CAP_IOV_DATA, b"pang");
    data.index = 0;
    let ev = event(
        "recvmsg",
        [3, 0x10, 0, 0, 0, 0],
        4,
        vec![
            cap(1, CAP_MSG_NAMELEN_IN, &20u32.to_ne_bytes()),
            cap(1, CAP_MSGHDR_OUT, &msghdr_bytes(0x2000, 35, 0x4000, 1)),
            cap(1, CAP_MSG_NAME, &name),
            cap(1, CAP_IOV_OUT, &iov),
            data,
        ],
    );
    assert_eq!(
        line(&ev),
        r#"3, {msg_name={sa_family=AF_UNIX, sun_path="a-rather-long-send"}, msg_namelen=20 => 35, msg_iov=[{iov_base="pang", iov_len=16}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0"#
    );
    let d = decode(&ev);
    assert_eq!(d[1].json.value.to_json()["msg_namelen"], 35);
    assert_eq!(d[1].json.value.to_json()["msg_namelen_in"], 20);
    // The same length in and out: printed once.
    let ev = event(
        "recvmsg",
        [3, 0x10, 0, 0, 0, 0],
        0,
        vec![
            cap(1, CAP_MSG_NAMELEN_IN, &0u32.to_ne_bytes()),
            cap(1, CAP_MSGHDR_OUT, &msghdr_bytes(0, 0, 0, 0)),
        ],
    );
    assert_eq!(
        line(&ev),
        "3, {msg_name=NULL, msg_namelen=0, msg_iov=NULL, msg_iovlen=0, msg_controllen=0, msg_flags=0}, 0"
    );
    // A failed call: `recvmsg(3, {msg_namelen=128}, MSG_DONTWAIT) = -1 EAGAIN`.
    let ev = event(
        "recvmsg",
        [3, 0x10, libc::MSG_DONTWAIT as u64, 0, 0, 0],
        -11,
        vec![cap(1, CAP_MSG_NAMELEN_IN, &128u32.to_ne_bytes())],
    );
    assert_eq!(line(&ev), "3, {msg_namelen=128}, MSG_DONTWAIT");
}

#[test]
fn strings_that_are_not_paths_are_cut_at_the_string_size() {
    // strace -s 64, tests/fixtures/capture.c: `setxattr("/tmp/capture.x",
    // "user.a-name-that-is-longer-than-the-string-size-of-sixty-four-by"..., "v", 1, 0)`. The
    // kernel read size + 1 bytes of the name.
    let mut name = cap(1, CAP_STR_SIZED, &[b'n'; 65]);
    name.flags = CAPF_TRUNCATED;
    let ev = event(
        "setxattr",
        [0x10, 0x20, 0x30, 1, 0, 0],
        0,
        vec![
            cap(0, CAP_STR, b"/tmp/capture.x"),
            name,
            cap(2, CAP_BUF_IN, b"v"),
        ],
    );
    let n64 = "n".repeat(64);
    assert_eq!(
        line(&ev),
        format!(r#""/tmp/capture.x", "{n64}"..., "v", 1, 0"#)
    );
    let d = decode(&ev);
    assert_eq!(d[1].json.value.to_json(), n64.as_str());
    assert!(d[1].json.truncated);
    // Exactly the string size: whole, no `...`.
    let ev = event(
        "removexattr",
        [0x10, 0x20, 0, 0, 0, 0],
        -61,
        vec![
            cap(0, CAP_STR, b"/tmp/capture.x"),
            cap(1, CAP_STR_SIZED, n64.as_bytes()),
        ],
    );
    assert_eq!(line(&ev), format!(r#""/tmp/capture.x", "{n64}""#));
}

#[test]
fn strings_unreadable_at_enter_are_read_again_at_exit() {
    // strace 6.1, tests/fixtures/capture.c `untouched`: `rename("/tmp/capture-untouched.a",
    // "/tmp/capture-untouched.b") = -1 ENOENT`, its strings in a file mapping not yet read.
    let fault = |arg: u8| {
        let mut c = cap(arg, CAP_STR, b"");
        c.flags = tracer_common::capture::CAPF_FAULT;
        c
    };
    let again = |arg: u8, s: &[u8]| {
        let mut c = cap(arg, CAP_STR, s);
        c.flags = tracer_common::capture::CAPF_AT_EXIT;
        c
    };
    let ev = event(
        "rename",
        [0x7f00, 0x7f19, 0, 0, 0, 0],
        -2,
        vec![
            fault(0),
            fault(1),
            again(0, b"/tmp/capture-untouched.a"),
            again(1, b"/tmp/capture-untouched.b"),
        ],
    );
    assert_eq!(
        line(&ev),
        r#""/tmp/capture-untouched.a", "/tmp/capture-untouched.b""#
    );
    // Unreadable at exit too: the pointer, as strace prints what it cannot read.
    let ev = event("unlink", [0x7f00, 0, 0, 0, 0, 0], -14, vec![fault(0)]);
    assert_eq!(line(&ev), "0x7f00");
}

fn flagged(mut c: Capture, flags: u8) -> Capture {
    c.flags = flags;
    c
}

#[test]
fn select_sets_timeouts_and_note() {
    use tracer_common::capture::{CAP_FDSET, CAP_STRUCT_INOUT, CAPF_AT_EXIT};
    // strace 6.1, tests/xselect.c: `select(5, [3 4], [3 4], [3 4], {tv_sec=0, tv_usec=123})
    // = 1 (in [3], left {tv_sec=0, tv_usec=99})`.
    let set = |b: u8| [b, 0, 0, 0, 0, 0, 0, 0];
    let mut tv = 0i64.to_ne_bytes().to_vec();
    tv.extend_from_slice(&123u64.to_ne_bytes());
    let mut left = 0i64.to_ne_bytes().to_vec();
    left.extend_from_slice(&99u64.to_ne_bytes());
    let ev = event(
        "select",
        [5, 0x10, 0x20, 0x30, 0x40, 0],
        1,
        vec![
            cap(1, CAP_FDSET, &set(0x18)),
            cap(2, CAP_FDSET, &set(0x18)),
            cap(3, CAP_FDSET, &set(0x18)),
            cap(4, CAP_STRUCT_INOUT, &tv),
            flagged(cap(1, CAP_FDSET, &set(0x08)), CAPF_AT_EXIT),
            flagged(cap(2, CAP_FDSET, &set(0)), CAPF_AT_EXIT),
            flagged(cap(3, CAP_FDSET, &set(0)), CAPF_AT_EXIT),
            flagged(cap(4, CAP_STRUCT_INOUT, &left), CAPF_AT_EXIT),
        ],
    );
    assert_eq!(line(&ev), "5, [3 4], [3 4], [3 4], {tv_sec=0, tv_usec=123}");
    assert_eq!(
        ret_note(&ev, Options::default()).as_deref(),
        Some("in [3], left {tv_sec=0, tv_usec=99}")
    );
    // No descriptors: strace reads no set and shows the pointers; a timeout is `Timeout`.
    let ev = event(
        "select",
        [0, 0x10, 0, 0, 0, 0],
        0,
        vec![cap(1, CAP_FDSET, b"")],
    );
    assert_eq!(line(&ev), "0, 0x10, NULL, NULL, NULL");
    assert_eq!(
        ret_note(&ev, Options::default()).as_deref(),
        Some("Timeout")
    );
    assert_eq!(
        ret_note(&event("getpid", [0; 6], 1, vec![]), Options::default()),
        None
    );
}

#[test]
fn offsets_behind_pointers() {
    use tracer_common::capture::{CAP_STRUCT_INOUT, CAPF_AT_EXIT};
    // strace 6.1, tests/sendfile.c: `sendfile(4, 5, [0] => [35499], 35499) = 35499`; a failed
    // call shows only the offset passed in, unsigned.
    let ev = event(
        "sendfile",
        [4, 5, 0x10, 35499, 0, 0],
        35499,
        vec![
            cap(2, CAP_STRUCT_INOUT, &0u64.to_ne_bytes()),
            flagged(
                cap(2, CAP_STRUCT_INOUT, &35499u64.to_ne_bytes()),
                CAPF_AT_EXIT,
            ),
        ],
    );
    assert_eq!(line(&ev), "4, 5, [0] => [35499], 35499");
    let ev = event(
        "sendfile",
        [4, 5, 0x10, 1, 0, 0],
        -22,
        vec![cap(2, CAP_STRUCT_INOUT, &(-1i64).to_ne_bytes())],
    );
    assert_eq!(line(&ev), "4, 5, [18446744073709551615], 1");
    // splice and copy_file_range: signed.
    let ev = event(
        "splice",
        [u64::MAX, 0x10, 0xffff_fffe, 0, 7, 0],
        -9,
        vec![cap(1, CAP_STRUCT_IN, &(-5i64).to_ne_bytes())],
    );
    assert_eq!(line(&ev), "-1, [-5], -2, NULL, 7, 0");
}

#[test]
fn iovec_arrays_cut_by_a_page_or_by_s() {
    use tracer_common::capture::{CAPF_FAULT, CAPF_SHORT};
    // strace 6.1, tests/pwritev.c: the array runs into an unreadable page after one entry:
    // `pwritev(0, [{iov_base="\7", iov_len=1}, ... /* 0x7ffff7dcf000 */], 2, 0)`.
    let mut pair = 0x5000u64.to_ne_bytes().to_vec();
    pair.extend_from_slice(&1u64.to_ne_bytes());
    let mut data = cap(1, CAP_IOV_DATA, b"\x07");
    data.index = 0;
    let ev = event(
        "pwritev",
        [0, 0x7fff_f7dc_eff0, 2, 0, 0, 0],
        -14,
        vec![
            flagged(cap(1, CAP_IOV_IN, &pair), CAPF_FAULT | CAPF_SHORT),
            data,
        ],
    );
    assert_eq!(
        line(&ev),
        r#"0, [{iov_base="\7", iov_len=1}, ... /* 0x7ffff7dcf000 */], 2, 0"#
    );
    // -s 1: one element, then `...`.
    let mut two = pair.clone();
    two.extend_from_slice(&pair);
    let ev = event(
        "writev",
        [1, 0x10, 2, 0, 0, 0],
        2,
        vec![cap(1, CAP_IOV_IN, &two)],
    );
    let d = decode_with(
        &ev,
        Options {
            string_size: 1,
            ..Options::default()
        },
    );
    assert_eq!(d[1].text, "[{iov_base=0x5000, iov_len=1}, ...]");
    // preadv: entries past what the call returned were not filled.
    let ev = event(
        "preadv",
        [0, 0x10, 2, 0, 0, 0],
        0,
        vec![cap(1, CAP_IOV_OUT, &two)],
    );
    assert_eq!(
        line(&ev),
        r#"0, [{iov_base="", iov_len=1}, {iov_base="", iov_len=1}], 2, 0"#
    );
}

fn line_v(ev: &SyscallEvent) -> String {
    let d = decode_with(
        ev,
        Options {
            no_abbrev: true,
            ..Options::default()
        },
    );
    shown_in_order(&d)
        .into_iter()
        .map(|a| a.text.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// struct flock, 64-bit layout.
fn flock_bytes(ty: i16, whence: i16, start: i64, len: i64, pid: i32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&ty.to_ne_bytes());
    b.extend_from_slice(&whence.to_ne_bytes());
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&start.to_ne_bytes());
    b.extend_from_slice(&len.to_ne_bytes());
    b.extend_from_slice(&pid.to_ne_bytes());
    b.extend_from_slice(&[0; 4]);
    b
}

#[test]
fn fcntl_arguments_by_command() {
    // strace 6.1 tests/fcntl.c and tests/fcntl-common.c.
    let lk = flock_bytes(0, 0, -2379362051860529427, -2379362048367726579, 0);
    let ev = event(
        "fcntl",
        [0, 6, 0x7fe0, 0, 0, 0],
        -22,
        vec![cap(2, CAP_STRUCT_IN, &lk)],
    );
    assert_eq!(
        line(&ev),
        "0, F_SETLK, {l_type=F_RDLCK, l_whence=SEEK_SET, l_start=-2379362051860529427, \
         l_len=-2379362048367726579}"
    );
    let lk = flock_bytes(2, 0, 0, 4096, 0);
    let ev = event(
        "fcntl",
        [0, 38, 0x7fe0, 0, 0, 0],
        0,
        vec![cap(2, CAP_STRUCT_IN, &lk)],
    );
    assert_eq!(
        line(&ev),
        "0, F_OFD_SETLKW, {l_type=F_UNLCK, l_whence=SEEK_SET, l_start=0, l_len=4096}"
    );
    assert_eq!(
        fcntl::flock(&lk, true).map(|d| d.0).as_deref(),
        Some("{l_type=F_UNLCK, l_whence=SEEK_SET, l_start=0, l_len=4096, l_pid=0}")
    );
    // F_GETLK's structure is the kernel's answer: what was read at enter is not shown.
    let ev = event(
        "fcntl",
        [0, 5, 0x7fe0, 0, 0, 0],
        0,
        vec![cap(2, CAP_STRUCT_IN, &lk)],
    );
    assert_eq!(line(&ev), "0, F_GETLK, 0x7fe0");
    // Short or unreadable: the address.
    let ev = event(
        "fcntl",
        [0, 6, 0x7fe1, 0, 0, 0],
        -14,
        vec![cap(2, CAP_STRUCT_IN, &lk[..7])],
    );
    assert_eq!(line(&ev), "0, F_SETLK, 0x7fe1");
    let mut own = Vec::new();
    own.extend_from_slice(&1i32.to_ne_bytes());
    own.extend_from_slice(&1234567890i32.to_ne_bytes());
    own.resize(32, 0);
    let ev = event(
        "fcntl",
        [0, 15, 0x7ff8, 0, 0, 0],
        -3,
        vec![cap(2, CAP_STRUCT_IN, &own)],
    );
    assert_eq!(
        line(&ev),
        "0, F_SETOWN_EX, {type=F_OWNER_PID, pid=1234567890}"
    );
    assert_eq!(
        fcntl::f_owner_ex(&[9, 0, 0, 0, 1, 0, 0, 0])
            .map(|d| d.0)
            .as_deref(),
        Some("{type=0x9 /* F_OWNER_??? */, pid=1}")
    );
    let f = |cmd: u64, arg: u64| line(&event("fcntl", [1, cmd, arg, 0, 0, 0], 0, vec![]));
    assert_eq!(f(1026, 1), "1, F_NOTIFY, DN_ACCESS");
    assert_eq!(f(1026, 0x8000_0040), "1, F_NOTIFY, DN_MULTISHOT|0x40");
    assert_eq!(f(1024, 0), "1, F_SETLEASE, F_RDLCK");
    assert_eq!(f(1024, 3), "1, F_SETLEASE, 0x3 /* F_??? */");
    assert_eq!(f(10, 1), "1, F_SETSIG, SIGHUP");
    assert_eq!(f(10, 0), "1, F_SETSIG, 0");
    assert_eq!(f(11, 0), "1, F_GETSIG");
    assert_eq!(f(2, 1), "1, F_SETFD, FD_CLOEXEC");
    assert_eq!(f(2, 2), "1, F_SETFD, 0x2 /* FD_??? */");
    assert_eq!(f(1033, 3), "1, F_ADD_SEALS, F_SEAL_SEAL|F_SEAL_SHRINK");
    assert_eq!(f(1031, 4097), "1, F_SETPIPE_SZ, 4097");
    // Commands strace does not know: the argument in hex.
    assert_eq!(f(17, 0x20), "1, F_GETOWNER_UIDS, 0x20");
}

#[test]
fn fcntl_return_values_are_decorated() {
    let r = |cmd: u64, ret: i64| {
        fcntl::ret_decoration(&event("fcntl", [0, cmd, 0, 0, 0, 0], ret, vec![]))
    };
    assert_eq!(r(1, 1).as_deref(), Some("0x1 (flags FD_CLOEXEC)"));
    assert_eq!(r(1, 0), None);
    assert_eq!(r(1, -9), None);
    assert_eq!(r(1025, 2).as_deref(), Some("0x2 (F_UNLCK)"));
    assert_eq!(r(1025, 0).as_deref(), Some("0 (F_RDLCK)"));
    assert_eq!(r(11, 1).as_deref(), Some("1 (SIGHUP)"));
    assert_eq!(r(11, 0), None);
    assert_eq!(
        r(3, 0x8002).as_deref(),
        Some("0x8002 (flags O_RDWR|O_LARGEFILE)")
    );
    assert_eq!(
        r(1034, 5).as_deref(),
        Some("0x5 (seals F_SEAL_SEAL|F_SEAL_GROW)")
    );
    assert_eq!(r(9, 1234), None);
    let other = event("dup", [1, 0, 0, 0, 0, 0], 1, vec![]);
    assert_eq!(fcntl::ret_decoration(&other), None);
}

#[test]
fn at_and_access_flags_like_strace() {
    // tests/faccessat2.c: faccessat2's own table, AT_EACCESS being AT_REMOVEDIR's value.
    let fa = |mode: u64, fl: u64| {
        line(&event(
            "faccessat2",
            [-1i64 as u64, 0, mode, fl, 0, 0],
            -22,
            vec![],
        ))
    };
    assert_eq!(fa(6, 0x200), "-1, NULL, R_OK|W_OK, AT_EACCESS");
    assert_eq!(fa(0, 0x1200), "-1, NULL, F_OK, AT_EACCESS|AT_EMPTY_PATH");
    assert_eq!(fa(8, 1), "-1, NULL, 0x8 /* ?_OK */, 0x1 /* AT_??? */");
    assert_eq!(
        fa(0xffff_ffff, 0x300),
        "-1, NULL, R_OK|W_OK|X_OK|0xfffffff8, AT_SYMLINK_NOFOLLOW|AT_EACCESS"
    );
    let ev = event(
        "unlinkat",
        [AT_FDCWD, 0x10, 0xffff_ffff, 0, 0, 0],
        -22,
        vec![cap(1, CAP_STR, b"unlinkat_sample")],
    );
    assert_eq!(
        line(&ev),
        "AT_FDCWD, \"unlinkat_sample\", AT_SYMLINK_NOFOLLOW|AT_REMOVEDIR|AT_SYMLINK_FOLLOW|\
         AT_NO_AUTOMOUNT|AT_EMPTY_PATH|AT_RECURSIVE|0xffff60ff"
    );
    let ev = event("unlinkat", [AT_FDCWD, 0, 0x10000, 0, 0, 0], -22, vec![]);
    assert_eq!(line(&ev), "AT_FDCWD, NULL, 0x10000 /* AT_??? */");
    // tests/dup3.c: the open flags table.
    let d = |fl: u64| line(&event("dup3", [1, 2, fl, 0, 0, 0], -22, vec![]));
    assert_eq!(d(0o1000 | 0o2000000), "1, 2, O_TRUNC|O_CLOEXEC");
    assert_eq!(d(1), "1, 2, 0x1 /* O_??? */");
    assert_eq!(d(0), "1, 2, 0");
    let ev = event("inotify_init1", [0xff96_b77b, 0, 0, 0, 0, 0], -22, vec![]);
    assert_eq!(line(&ev), "0xff96b77b /* IN_??? */");
}

#[test]
fn ids_minus_one() {
    let ev = event(
        "chown",
        [0x10, u32::MAX as u64, 0, 0, 0, 0],
        0,
        vec![cap(0, CAP_STR, b"f")],
    );
    assert_eq!(line(&ev), "\"f\", -1, 0");
    let ev = event("fchown", [3, 0xffff, 0xffff_0000, 0, 0, 0], 0, vec![]);
    assert_eq!(line(&ev), "3, 65535, 4294901760");
    let ev = event(
        "setresuid",
        [u32::MAX as u64, 1, u32::MAX as u64, 0, 0, 0],
        0,
        vec![],
    );
    assert_eq!(line(&ev), "-1, 1, -1");
}

#[test]
fn statx_flags_mask_and_fields() {
    let sx = |fl: u64, mask: u64| {
        line(&event(
            "statx",
            [AT_FDCWD, 0, fl, mask, 0x10, 0],
            -22,
            vec![],
        ))
    };
    assert_eq!(
        sx(0, 0xfff),
        "AT_FDCWD, NULL, AT_STATX_SYNC_AS_STAT, STATX_ALL, 0x10"
    );
    assert_eq!(
        sx(0x6000, 0),
        "AT_FDCWD, NULL, AT_STATX_FORCE_SYNC|AT_STATX_DONT_SYNC, 0, 0x10"
    );
    assert_eq!(
        sx(0xffff_ffff, 0xffff_c000),
        "AT_FDCWD, NULL, AT_STATX_FORCE_SYNC|AT_STATX_DONT_SYNC|AT_SYMLINK_NOFOLLOW|\
         AT_REMOVEDIR|AT_SYMLINK_FOLLOW|AT_NO_AUTOMOUNT|AT_EMPTY_PATH|AT_RECURSIVE|0xffff00ff, \
         0xffffc000 /* STATX_??? */, 0x10"
    );
    // tests/statx.c on /dev/full with -v.
    let mut b = vec![0u8; 256];
    b[0..4].copy_from_slice(&0x1fffu32.to_ne_bytes());
    b[4..8].copy_from_slice(&4096u32.to_ne_bytes());
    b[16..20].copy_from_slice(&1u32.to_ne_bytes());
    b[28..30].copy_from_slice(&(0o20666u16).to_ne_bytes());
    b[32..40].copy_from_slice(&5u64.to_ne_bytes());
    b[56..64].copy_from_slice(&0x3070u64.to_ne_bytes());
    b[128..132].copy_from_slice(&1u32.to_ne_bytes());
    b[132..136].copy_from_slice(&7u32.to_ne_bytes());
    b[140..144].copy_from_slice(&6u32.to_ne_bytes());
    b[144..152].copy_from_slice(&0x19u64.to_ne_bytes());
    let ev = event(
        "statx",
        [AT_FDCWD, 0x20, 0, 0xfff, 0x10, 0],
        0,
        vec![cap(1, CAP_STR, b"/dev/full"), cap(4, CAP_STRUCT_OUT, &b)],
    );
    assert_eq!(
        line_v(&ev),
        "AT_FDCWD, \"/dev/full\", AT_STATX_SYNC_AS_STAT, STATX_ALL, {stx_mask=STATX_ALL|STATX_MNT_ID, \
         stx_blksize=4096, stx_attributes=0, stx_nlink=1, stx_uid=0, stx_gid=0, \
         stx_mode=S_IFCHR|0666, stx_ino=5, stx_size=0, stx_blocks=0, \
         stx_attributes_mask=STATX_ATTR_IMMUTABLE|STATX_ATTR_APPEND|STATX_ATTR_NODUMP|\
         STATX_ATTR_AUTOMOUNT|STATX_ATTR_MOUNT_ROOT, stx_atime={tv_sec=0, tv_nsec=0}, \
         stx_btime={tv_sec=0, tv_nsec=0}, stx_ctime={tv_sec=0, tv_nsec=0}, \
         stx_mtime={tv_sec=0, tv_nsec=0}, stx_rdev_major=1, stx_rdev_minor=7, \
         stx_dev_major=0, stx_dev_minor=6, stx_mnt_id=0x19}"
    );
    assert_eq!(
        line(&ev),
        "AT_FDCWD, \"/dev/full\", AT_STATX_SYNC_AS_STAT, STATX_ALL, {stx_mask=STATX_ALL|STATX_MNT_ID, \
         stx_attributes=0, stx_mode=S_IFCHR|0666, stx_size=0, ...}"
    );
    // Cut short: no panic, the abbreviated form.
    let ev = event(
        "statx",
        [AT_FDCWD, 0x20, 0, 0xfff, 0x10, 0],
        0,
        vec![cap(4, CAP_STRUCT_OUT, &b[..60])],
    );
    assert!(line_v(&ev).ends_with("stx_size=0, ...}"), "{}", line_v(&ev));
}

#[test]
fn signal_sets_like_strace() {
    let set = |bits: u64, n: usize| bits.to_ne_bytes()[..n].to_vec();
    let hup = 1u64;
    // tests/rt_sigprocmask.c
    let ev = event(
        "rt_sigprocmask",
        [2, 0x10, 0x20, 8, 0, 0],
        0,
        vec![
            cap(1, CAP_STRUCT_IN, &set(0, 8)),
            cap(2, CAP_STRUCT_OUT, &set(0, 8)),
        ],
    );
    assert_eq!(line(&ev), "SIG_SETMASK, [], [], 8");
    let ev = event(
        "rt_sigprocmask",
        [1, 0x10, 0x20, 8, 0, 0],
        0,
        vec![
            cap(1, CAP_STRUCT_IN, &set(!(hup | 1 << 8), 8)),
            cap(2, CAP_STRUCT_OUT, &set(hup, 8)),
        ],
    );
    assert_eq!(line(&ev), "SIG_UNBLOCK, ~[HUP KILL], [HUP], 8");
    let five = hup | 1 << 1 | 1 << 2 | 1 << 13 | 1 << 14;
    let ev = event(
        "rt_sigprocmask",
        [2, 0x10, 0x20, 8, 0, 0],
        -14,
        vec![cap(1, CAP_STRUCT_IN, &set(five, 8))],
    );
    assert_eq!(line(&ev), "SIG_SETMASK, [HUP INT QUIT ALRM TERM], 0x20, 8");
    // A size the kernel refuses: the addresses.
    let ev = event(
        "rt_sigprocmask",
        [2, 0x10, 0x20, 4, 0, 0],
        -22,
        vec![cap(1, CAP_STRUCT_IN, &set(0, 4))],
    );
    assert_eq!(line(&ev), "SIG_SETMASK, 0x10, 0x20, 4");
    // tests/rt_sigpending.c: sizes down to one byte.
    let ev = event(
        "rt_sigpending",
        [0x10, 1, 0, 0, 0, 0],
        0,
        vec![cap(0, CAP_STRUCT_OUT, &set(hup | 2, 1))],
    );
    assert_eq!(line(&ev), "[HUP INT], 1");
    let ev = event("rt_sigpending", [0x10, 0, 0, 0, 0, 0], 0, vec![]);
    assert_eq!(line(&ev), "0x10, 0");
    // Real-time signals; a short capture is the address.
    assert_eq!(
        signal::sigset(&set(1 << 31 | 1 << 32 | 1 << 63, 8), 8, 8)
            .map(|d| d.0)
            .as_deref(),
        Some("[RTMIN RT_1 RT_32]")
    );
    assert_eq!(signal::sigset(&[0, 0], 8, 8), None);
    // tests/signalfd4.c
    let ev = event(
        "signalfd4",
        [-1i64 as u64, 0x10, 8, 0o2004000, 0, 0],
        3,
        vec![cap(1, CAP_STRUCT_IN, &set(1 << 11 | 1 << 16, 8))],
    );
    assert_eq!(line(&ev), "-1, [USR2 CHLD], 8, SFD_CLOEXEC|SFD_NONBLOCK");
}

#[test]
fn getrandom_uname_and_memory_calls() {
    // tests/getrandom.c with -s3: the bytes in hex.
    let ev = event(
        "getrandom",
        [0x10, 4, 1, 0, 0, 0],
        4,
        vec![cap(0, CAP_BUF_OUT, b"\x4b\xe3\xda")],
    );
    assert_eq!(line(&ev), r#""\x4b\xe3\xda"..., 4, GRND_NONBLOCK"#);
    let mut u = vec![0u8; structs::UTSNAME_SIZE];
    for (i, f) in ["Linux", "vm", "6.1", "#1 SMP", "x86_64", "(none)"]
        .iter()
        .enumerate()
    {
        u[i * 65..i * 65 + f.len()].copy_from_slice(f.as_bytes());
    }
    let ev = event(
        "uname",
        [0x10, 0, 0, 0, 0, 0],
        0,
        vec![cap(0, CAP_STRUCT_OUT, &u)],
    );
    assert_eq!(line(&ev), r#"{sysname="Linux", nodename="vm", ...}"#);
    assert_eq!(
        line_v(&ev),
        r##"{sysname="Linux", nodename="vm", release="6.1", version="#1 SMP", machine="x86_64", domainname="(none)"}"##
    );
    // tests/mmap.c
    let ev = event("mmap", [0, 0, 0, 0, 0, 0], -9, vec![]);
    assert_eq!(line(&ev), "NULL, 0, PROT_NONE, MAP_FILE, 0, 0");
    let ev = event(
        "mmap",
        [0, 4096, 3, 0x22 | 21 << 26, -1i64 as u64, 0],
        0,
        vec![],
    );
    assert_eq!(
        line(&ev),
        "NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|21<<MAP_HUGE_SHIFT, -1, 0"
    );
    let ev = event("mmap", [0, 4096, 3, 0xf, -1i64 as u64, 0], -22, vec![]);
    assert_eq!(
        line(&ev),
        "NULL, 4096, PROT_READ|PROT_WRITE, 0xf /* MAP_??? */, -1, 0"
    );
    let ev = event("msync", [0xfacefeed000, 24576, 4, 0, 0, 0], 0, vec![]);
    assert_eq!(line(&ev), "0xfacefeed000, 24576, MS_SYNC");
    let ev = event("mremap", [0xfacefeed000, 24576, 12288, 0, 0, 0], 0, vec![]);
    assert_eq!(line(&ev), "0xfacefeed000, 24576, 12288, 0");
    let ev = event(
        "mremap",
        [0xfacefeed000, 12288, 8192, 3, 0xfacefef0000, 0],
        0,
        vec![],
    );
    assert_eq!(
        line(&ev),
        "0xfacefeed000, 12288, 8192, MREMAP_MAYMOVE|MREMAP_FIXED, 0xfacefef0000"
    );
    let ev = event("mlockall", [2, 0, 0, 0, 0, 0], 0, vec![]);
    assert_eq!(line(&ev), "MCL_FUTURE");
}

#[test]
fn utimensat_times_like_strace() {
    // tests/utimensat.c. The date comment is in the local zone: only its start is checked.
    let ts = |a: (i64, u64), b: (i64, u64)| {
        let mut v = Vec::new();
        for (s, n) in [a, b] {
            v.extend_from_slice(&s.to_ne_bytes());
            v.extend_from_slice(&n.to_ne_bytes());
        }
        v
    };
    let ev = |t: Vec<u8>, fl: u64| {
        event(
            "utimensat",
            [AT_FDCWD, 0x10, 0x20, fl, 0, 0],
            -2,
            vec![cap(1, CAP_STR, b"f"), cap(2, CAP_STRUCT_IN, &t)],
        )
    };
    assert_eq!(
        line(&ev(ts((0, (1 << 30) - 1), (0, (1 << 30) - 2)), 0x200)),
        r#"AT_FDCWD, "f", [UTIME_NOW, UTIME_OMIT], AT_REMOVEDIR"#
    );
    assert_eq!(
        line(&ev(
            ts(
                (3735928559, 4207869677),
                (-3819351491602432273, 13464652301697220333)
            ),
            0x100
        )),
        r#"AT_FDCWD, "f", [{tv_sec=3735928559, tv_nsec=4207869677}, {tv_sec=-3819351491602432273, tv_nsec=13464652301697220333}], AT_SYMLINK_NOFOLLOW"#
    );
    let (t, _) = time::timespec_utimes(&ts((1492358706, 123456789), (0, 0))).expect("decodes");
    assert!(
        t.starts_with("[{tv_sec=1492358706, tv_nsec=123456789} /* 2017-04-1"),
        "{t}"
    );
    assert!(t.ends_with(", {tv_sec=0, tv_nsec=0}]"), "{t}");
    assert_eq!(time::timespec_utimes(&[0; 20]), None);
}

fn longs(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_ne_bytes()).collect()
}

#[test]
fn time_structures_like_strace() {
    // utimes: a path although its kernel type is `char *`, and two timevals.
    let ev = event(
        "utimes",
        [0x10, 0x20, 0, 0, 0, 0],
        -22,
        vec![
            cap(0, CAP_STR, b"utimes_sample"),
            cap(
                1,
                CAP_STRUCT_IN,
                &longs(&[1_492_358_607, 1_000_000, 1_492_356_078, 1_000_001]),
            ),
        ],
    );
    assert_eq!(
        line(&ev),
        r#""utimes_sample", [{tv_sec=1492358607, tv_usec=1000000}, {tv_sec=1492356078, tv_usec=1000001}]"#
    );
    let nsec = |v: i64| longs(&[0, v]);
    let mut now_omit = nsec((1 << 30) - 1);
    now_omit.extend(nsec((1 << 30) - 2));
    let ev = event(
        "utimensat",
        [AT_FDCWD, 0x10, 0x20, 0x8000 | 0x100, 0, 0],
        -22,
        vec![cap(1, CAP_STR, b"f"), cap(2, CAP_STRUCT_IN, &now_omit)],
    );
    assert_eq!(
        line(&ev),
        r#"AT_FDCWD, "f", [UTIME_NOW, UTIME_OMIT], AT_SYMLINK_NOFOLLOW|AT_RECURSIVE"#
    );
    let ev = event(
        "utimensat",
        [AT_FDCWD, 0, 0, 0x4000_0000, 0, 0],
        -22,
        vec![],
    );
    assert_eq!(line(&ev), "AT_FDCWD, NULL, NULL, 0x40000000 /* AT_??? */");
    let ev = event("faccessat2", [AT_FDCWD, 0, 4, 0x200, 0, 0], -22, vec![]);
    assert_eq!(line(&ev), "AT_FDCWD, NULL, R_OK, AT_EACCESS");
    let ev = event("faccessat2", [AT_FDCWD, 0, 8, 1, 0, 0], -22, vec![]);
    assert_eq!(
        line(&ev),
        "AT_FDCWD, NULL, 0x8 /* ?_OK */, 0x1 /* AT_??? */"
    );
    // setitimer: the new value read at enter, the old one written (absent: the address).
    let it = longs(&[789_985, 789_986, 789_987, 789_988]);
    let ev = event(
        "setitimer",
        [0, 0x10, 0x20, 0, 0, 0],
        -14,
        vec![cap(1, CAP_STRUCT_IN, &it)],
    );
    assert_eq!(
        line(&ev),
        "ITIMER_REAL, {it_interval={tv_sec=789985, tv_usec=789986}, \
         it_value={tv_sec=789987, tv_usec=789988}}, 0x20"
    );
    let ev = event("getitimer", [0xdead_beef, 0x10, 0, 0, 0, 0], -22, vec![]);
    assert_eq!(line(&ev), "0xdeadbeef /* ITIMER_??? */, 0x10");
    let ev = event(
        "timerfd_settime",
        [0, 0, 0x10, 0x20, 0, 0],
        0,
        vec![
            cap(2, CAP_STRUCT_IN, &it),
            cap(3, CAP_STRUCT_OUT, &longs(&[0, 0, 0, 0])),
        ],
    );
    assert_eq!(
        line(&ev),
        "0, 0, {it_interval={tv_sec=789985, tv_nsec=789986}, \
         it_value={tv_sec=789987, tv_nsec=789988}}, \
         {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=0, tv_nsec=0}}"
    );
    let mut tz = 0i32.to_ne_bytes().to_vec();
    tz.extend_from_slice(&0i32.to_ne_bytes());
    let ev = event(
        "settimeofday",
        [0x10, 0x20, 0, 0, 0, 0],
        -22,
        vec![
            cap(0, CAP_STRUCT_IN, &longs(&[-1, 1_000_000])),
            cap(1, CAP_STRUCT_IN, &tz),
        ],
    );
    assert_eq!(
        line(&ev),
        "{tv_sec=-1, tv_usec=1000000}, {tz_minuteswest=0, tz_dsttime=0}"
    );
    let ev = event(
        "clock_settime",
        [3, 0x10, 0, 0, 0, 0],
        -22,
        vec![cap(1, CAP_STRUCT_IN, &longs(&[-1, -1]))],
    );
    assert_eq!(
        line(&ev),
        "CLOCK_THREAD_CPUTIME_ID, {tv_sec=-1, tv_nsec=18446744073709551615}"
    );
}

#[test]
fn resource_structures_like_strace() {
    let mut ru = longs(&[0, 448, 0, 0]);
    ru.extend(longs(&[0; 14]));
    // wait4: the usage only when a pid came back.
    let ev = event(
        "wait4",
        [7, 0x10, 0, 0x20, 0, 0],
        7,
        vec![
            cap(1, CAP_STRUCT_OUT, &(42u32 << 8).to_ne_bytes()),
            cap(3, CAP_STRUCT_OUT, &ru),
        ],
    );
    assert_eq!(
        line(&ev),
        "7, [{WIFEXITED(s) && WEXITSTATUS(s) == 42}], 0, \
         {ru_utime={tv_sec=0, tv_usec=448}, ru_stime={tv_sec=0, tv_usec=0}, ...}"
    );
    let ev = event(
        "wait4",
        [7, 0x10, 1, 0x20, 0, 0],
        0,
        vec![
            cap(1, CAP_STRUCT_OUT, &0u32.to_ne_bytes()),
            cap(3, CAP_STRUCT_OUT, &ru),
        ],
    );
    assert_eq!(line(&ev), "7, 0x10, WNOHANG, 0x20");
    let ev = event(
        "getrusage",
        [(-1i64) as u64, 0x10, 0, 0, 0, 0],
        0,
        vec![cap(1, CAP_STRUCT_OUT, &ru)],
    );
    assert_eq!(
        line(&ev),
        "RUSAGE_CHILDREN, {ru_utime={tv_sec=0, tv_usec=448}, ru_stime={tv_sec=0, tv_usec=0}, ...}"
    );
    let ev = event(
        "waitid",
        [1, 5, 0x10, 4, 0, 0],
        0,
        vec![cap(2, CAP_STRUCT_OUT, &[0; 128])],
    );
    assert_eq!(line(&ev), "P_PID, 5, {}, WEXITED, NULL");
    // Affinity masks: the returned length, the length passed in.
    let ev = event(
        "sched_getaffinity",
        [9, 128, 0x10, 0, 0, 0],
        8,
        vec![cap(2, CAP_STRUCT_OUT, &[3, 0, 0, 0, 0, 0, 0, 0])],
    );
    assert_eq!(line(&ev), "9, 128, [0 1]");
    let ev = event(
        "sched_setaffinity",
        [9, 0, 0x10, 0, 0, 0],
        -22,
        vec![cap(2, CAP_STRUCT_IN, &[])],
    );
    assert_eq!(line(&ev), "9, 0, []");
    let ev = event(
        "getgroups",
        [1, 0x10, 0, 0, 0, 0],
        0,
        vec![cap(1, CAP_STRUCT_OUT, &[])],
    );
    assert_eq!(line(&ev), "1, []");
    let ev = event(
        "setgroups",
        [(-1i64) as u64, 0x10, 0, 0, 0, 0],
        -22,
        vec![cap(1, CAP_STRUCT_IN, &[0; 64])],
    );
    assert_eq!(line(&ev), "-1, 0x10");
    let ev = event(
        "getresuid",
        [0x10, 0x20, 0x30, 0, 0, 0],
        0,
        vec![
            cap(0, CAP_STRUCT_OUT, &0u32.to_ne_bytes()),
            cap(1, CAP_STRUCT_OUT, &u32::MAX.to_ne_bytes()),
            cap(2, CAP_STRUCT_OUT, &1000u32.to_ne_bytes()),
        ],
    );
    assert_eq!(line(&ev), "[0], [-1], [1000]");
    let ev = event(
        "getcpu",
        [0x10, 0x20, 0x30, 0, 0, 0],
        0,
        vec![
            cap(0, CAP_STRUCT_OUT, &1u32.to_ne_bytes()),
            cap(1, CAP_STRUCT_OUT, &[0, 0]),
        ],
    );
    assert_eq!(
        line(&ev),
        "[1], 0x20, 0x30",
        "a short capture shows the address"
    );
}

#[test]
fn poll_events_in_and_revents_after() {
    use tracer_common::capture::{CAP_STRUCT_INOUT, CAPF_AT_EXIT, CAPF_FAULT, CAPF_SHORT};
    let pollfd = |fd: i32, events: u16, revents: u16| {
        let mut b = fd.to_ne_bytes().to_vec();
        b.extend_from_slice(&events.to_ne_bytes());
        b.extend_from_slice(&revents.to_ne_bytes());
        b
    };
    let mut two = pollfd(0, 1, 0);
    two.extend(pollfd(1, 4, 0));
    let mut after = pollfd(0, 1, 0);
    after.extend(pollfd(1, 4, 4));
    // strace 6.1, tests/poll.c: `poll([{fd=0, events=POLLIN}, {fd=1, events=POLLOUT}], 2, 0)
    // = 1 ([{fd=1, revents=POLLOUT}])`.
    let ev = event(
        "poll",
        [0x10, 2, 0, 0, 0, 0],
        1,
        vec![
            cap(0, CAP_STRUCT_INOUT, &two),
            flagged(cap(0, CAP_STRUCT_INOUT, &after), CAPF_AT_EXIT),
        ],
    );
    assert_eq!(
        line(&ev),
        "[{fd=0, events=POLLIN}, {fd=1, events=POLLOUT}], 2, 0"
    );
    assert_eq!(
        ret_note(&ev, Options::default()).as_deref(),
        Some("[{fd=1, revents=POLLOUT}]")
    );
    // The array ends at an unreadable page: the first entry not read, by address.
    let ev = event(
        "poll",
        [0x10, 2, 0, 0, 0, 0],
        1,
        vec![
            cap(0, CAP_STRUCT_INOUT, &two),
            flagged(
                cap(0, CAP_STRUCT_INOUT, &pollfd(0, 1, 1)),
                CAPF_AT_EXIT | CAPF_FAULT | CAPF_SHORT,
            ),
        ],
    );
    assert_eq!(
        ret_note(&ev, Options::default()).as_deref(),
        Some("[{fd=0, revents=POLLIN}, 0x18]")
    );
    let ev = event("poll", [0x10, 2, 0, 0, 0, 0], 0, vec![]);
    assert_eq!(
        ret_note(&ev, Options::default()).as_deref(),
        Some("Timeout")
    );
    // ppoll: and the time left.
    let mut left = 0i64.to_ne_bytes().to_vec();
    left.extend_from_slice(&41u64.to_ne_bytes());
    let ev = event(
        "ppoll",
        [0x10, 2, 0x20, 0, 8, 0],
        1,
        vec![
            cap(0, CAP_STRUCT_INOUT, &two),
            flagged(cap(0, CAP_STRUCT_INOUT, &after), CAPF_AT_EXIT),
            flagged(cap(2, CAP_STRUCT_INOUT, &left), CAPF_AT_EXIT),
        ],
    );
    assert_eq!(
        ret_note(&ev, Options::default()).as_deref(),
        Some("[{fd=1, revents=POLLOUT}], left {tv_sec=0, tv_nsec=41}")
    );
}

#[test]
fn getcwd_prints_the_whole_path() {
    // strace 6.1, tests/getcwd.c: the path is not cut at -s.
    let path = b"/work/main/target/strace-suite/strace-6.1/tests/dir\0";
    let ev = event(
        "getcwd",
        [0x10, 4097, 0, 0, 0, 0],
        path.len() as i64,
        vec![cap(0, CAP_STRUCT_OUT, path)],
    );
    assert_eq!(
        line(&ev),
        r#""/work/main/target/strace-suite/strace-6.1/tests/dir", 4097"#
    );
    let ev = event("getcwd", [0x10, 0, 0, 0, 0, 0], -34, vec![]);
    assert_eq!(line(&ev), "0x10, 0");
}

#[test]
fn xattr_values_and_lists_like_strace() {
    // strace 6.1, tests/xattr.c: the value's last NUL is left out, a size past XATTR_SIZE_MAX
    // shows the address, a zero-sized list the address.
    let ev = event(
        "fsetxattr",
        [u64::MAX, 0x10, 0x20, 8, 2, 0],
        -9,
        vec![
            cap(1, CAP_STR_SIZED, b"strace.test"),
            cap(2, CAP_BUF_IN, b"foo\0bar\0"),
        ],
    );
    assert_eq!(
        line(&ev),
        r#"-1, "strace.test", "foo\0bar", 8, XATTR_REPLACE"#
    );
    let ev = event(
        "fsetxattr",
        [u64::MAX, 0x10, 0x20, 65537, 1, 0],
        -7,
        vec![
            cap(1, CAP_STR_SIZED, b"strace.test"),
            cap(2, CAP_BUF_IN, b"\xff\xff"),
        ],
    );
    assert_eq!(line(&ev), r#"-1, "strace.test", 0x20, 65537, XATTR_CREATE"#);
    let ev = event(
        "listxattr",
        [0x10, 0x20, 0, 0, 0, 0],
        0,
        vec![cap(0, CAP_STR, b".")],
    );
    assert_eq!(line(&ev), r#"".", 0x20, 0"#);
    let ev = event(
        "listxattr",
        [0x10, 0x20, 65537, 0, 0, 0],
        0,
        vec![cap(0, CAP_STR, b"."), cap(1, CAP_BUF_OUT, b"")],
    );
    assert_eq!(line(&ev), r#"".", "", 65537"#);
}
