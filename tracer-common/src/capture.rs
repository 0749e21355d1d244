//! Argument contents captured in the kernel: what to capture per syscall (written by user space
//! into the `CAPTURE_SPEC` array), and how captured bytes follow a record.
//!
//! A record with captures is the fixed record followed by captures, each an 8-byte
//! [`CaptureHeader`] and `len` bytes, padded to 8. Enter-side captures travel in their own
//! record ([`EnterRecord`], emitted at enter while the user memory is as the caller passed
//! it); exit-side captures (output buffers) follow the [`SyscallRecord`] emitted at exit.
//!
//! [`SyscallRecord`]: crate::record::SyscallRecord

use crate::record::RecordHeader;

/// Nothing captured.
pub const CAP_NONE: u8 = 0;
/// A path: NUL-terminated string at enter, up to [`MAX_PATH`] bytes.
pub const CAP_STR: u8 = 1;
/// Bytes at enter, length `args[len_arg]`, at most the string size.
pub const CAP_BUF_IN: u8 = 2;
/// Bytes at exit, length `min(ret, args[len_arg])`, at most the string size.
pub const CAP_BUF_OUT: u8 = 3;
/// A socket address at enter, length `args[len_arg]`.
pub const CAP_SOCKADDR_IN: u8 = 4;
/// A socket address at exit, length `min(*(int *)args[len_arg] before, after)`: the kernel
/// writes no more than the buffer passed in (`move_addr_to_user`, net/socket.c), and returns
/// the address's real length, which may be longer. Followed by a [`CAP_SOCKLEN_OUT`].
pub const CAP_SOCKADDR_OUT: u8 = 5;
/// An iovec array at enter, `args[len_arg]` entries, then each entry's bytes.
pub const CAP_IOV_IN: u8 = 6;
/// An iovec array at exit, then each entry's bytes up to `ret` in total.
pub const CAP_IOV_OUT: u8 = 7;
/// `size` bytes at enter, times a count (`len_arg`, or 1 when it is [`LEN_NONE`]).
pub const CAP_STRUCT_IN: u8 = 8;
/// `size` bytes at exit when the call succeeded, times a count (`len_arg`, [`LEN_RET`] or 1).
pub const CAP_STRUCT_OUT: u8 = 9;
/// A NULL-terminated array of string pointers at enter (argv): the first [`MAX_ARGV`]
/// strings, each at most the string size.
pub const CAP_ARGV: u8 = 10;
/// Element data of an iovec capture (`CaptureHeader::index` is the element).
pub const CAP_IOV_DATA: u8 = 11;
/// A `struct user_msghdr` at enter (sendmsg), then its `msg_name` ([`CAP_MSG_NAME`]), its
/// iovec array and their bytes.
pub const CAP_MSGHDR_IN: u8 = 12;
/// The same at exit (recvmsg), bytes up to `ret`.
pub const CAP_MSGHDR_OUT: u8 = 13;
/// The socket address a msghdr points to (at exit: `min(msg_namelen before, after)` bytes).
pub const CAP_MSG_NAME: u8 = 14;
/// The `int` a socket address length points to after the call (4 bytes): the length the
/// kernel returned, which the address capture may be shorter than. Emitted at exit with
/// every [`CAP_SOCKADDR_OUT`], under the length argument's index.
pub const CAP_SOCKLEN_OUT: u8 = 15;
/// `msg_namelen` of the msghdr passed to recvmsg (4 bytes), read at enter: the kernel
/// overwrites it with the name's real length.
pub const CAP_MSG_NAMELEN_IN: u8 = 16;
/// A NUL-terminated string at enter that is not a path (xattr names, key descriptions): at
/// most the string size, plus one byte to tell a longer string ([`CAPF_TRUNCATED`], holding
/// size + 1 bytes) from one of exactly that size.
pub const CAP_STR_SIZED: u8 = 17;
/// An `fd_set` (select, pselect6): `((args[len_arg] + 63) / 64) * 8` bytes (the fd count
/// rounded up to whole longs, as `core_sys_select` in fs/select.c copies it), at most
/// [`MAX_FDSET`]; read at enter, and again at exit when the call returned a count
/// ([`CAPF_AT_EXIT`]).
pub const CAP_FDSET: u8 = 18;
/// `size` bytes × count (as [`CAP_STRUCT_IN`]) read at enter, and again at exit when the call
/// succeeded ([`CAPF_AT_EXIT`]): a value the call updates (select's timeout, sendfile's
/// offset).
pub const CAP_STRUCT_INOUT: u8 = 19;
/// The caller's user stack (`-k`): up to [`MAX_STACK_FRAMES`] return addresses, innermost
/// first, each a native-endian u64, as `bpf_get_stack(ctx, buf, size, BPF_F_USER_STACK)` walks
/// them (frame pointers, kernel/events/callchain.c). Read at exit (the user stack is the same
/// as at enter), at enter for calls that never return; `arg` is 0 and means nothing;
/// [`CAPF_FAULT`] with no data when the walk failed.
pub const CAP_STACK: u8 = 20;
/// Frames of a [`CAP_STACK`] capture: enough for the caller's chain in most programs, at
/// 256 bytes per record.
pub const MAX_STACK_FRAMES: u32 = 32;
/// `sizeof(struct user_msghdr)` on 64-bit kernels (include/linux/socket.h).
pub const MSGHDR_SIZE: u32 = 56;
/// `offsetof(struct user_msghdr, msg_namelen)` on 64-bit kernels.
pub const MSGHDR_NAMELEN_OFF: u64 = 8;
/// `sizeof(socklen_t)` / `sizeof(int)`: the socket address lengths.
pub const SOCKLEN_SIZE: u32 = 4;
/// `Pending::len_in` when no address buffer size was read at enter.
pub const LEN_IN_UNKNOWN: u32 = u32::MAX;

/// `len_arg`: no length argument.
pub const LEN_NONE: u8 = 0xff;
/// `len_arg`: the return value is the count.
pub const LEN_RET: u8 = 0xfe;
/// `len_arg | LEN_PAGES`: the count is argument `len_arg & 7`, a byte length, in pages
/// rounded up (mincore's vector: one byte per page).
pub const LEN_PAGES: u8 = 0x40;

/// Longest string captured for a path (PATH_MAX, include/uapi/linux/limits.h).
pub const MAX_PATH: u32 = 4096;
/// Largest `--string-size`.
pub const MAX_STRING_SIZE: u32 = 4096;
/// Largest socket address captured (`sizeof(struct sockaddr_storage)`).
pub const MAX_SOCKADDR: u32 = 128;
/// iovec entries captured.
pub const MAX_IOV: u32 = 8;
/// argv entries captured.
pub const MAX_ARGV: u32 = 16;
/// Largest fd_set captured: FD_SETSIZE bits.
pub const MAX_FDSET: u32 = 128;
/// Largest struct array captured at once.
pub const MAX_STRUCT_BYTES: u32 = 1024;

/// The capture was cut at the size limit.
pub const CAPF_TRUNCATED: u8 = 1 << 0;
/// Reading the user memory failed (bad pointer, or paged out).
pub const CAPF_FAULT: u8 = 1 << 1;
/// A string read at `sys_exit` because reading it at enter failed: its page was not faulted
/// in yet (a BPF program on a tracepoint cannot fault), and the call itself faulted it in
/// when it copied the string (`getname`, `strncpy_from_user`). What the memory held at exit.
pub const CAPF_AT_EXIT: u8 = 1 << 2;
/// With [`CAPF_FAULT`]: the whole read faulted, but the bytes from its start to the end of
/// its page were readable, and the capture holds them (strace reads no further than it
/// needs, so a value that ends before the unreadable page still decodes: an `int` option
/// given with a length of 5 at 4 bytes before a guard page).
pub const CAPF_SHORT: u8 = 1 << 3;
/// Page size of the architectures tracer builds for.
pub const PAGE_SIZE: u64 = 4096;

/// What to capture for one syscall number, per argument.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureSpec {
    /// `CAP_*` per argument.
    pub kind: [u8; 6],
    /// Index of the argument that holds the length or count, or `LEN_NONE` / `LEN_RET`.
    pub len_arg: [u8; 6],
    /// Element size for struct captures.
    pub size: [u16; 6],
}
const _: () = assert!(core::mem::size_of::<CaptureSpec>() == 24);

impl CaptureSpec {
    pub const fn is_exit_kind(kind: u8) -> bool {
        matches!(
            kind,
            CAP_BUF_OUT
                | CAP_SOCKADDR_OUT
                | CAP_IOV_OUT
                | CAP_STRUCT_OUT
                | CAP_MSGHDR_OUT
                | CAP_FDSET
                | CAP_STRUCT_INOUT
        )
    }

    pub const fn is_enter_kind(kind: u8) -> bool {
        kind != CAP_NONE && !Self::is_exit_kind(kind)
    }

    /// Kinds read at enter: the enter kinds, and the exit kinds whose buffer size the kernel
    /// overwrites (the address length of a returned socket address, recvmsg's
    /// `msg_namelen`), read at enter so the exit side reads no more than the buffer.
    pub const fn reads_at_enter(kind: u8) -> bool {
        Self::is_enter_kind(kind)
            || matches!(
                kind,
                CAP_SOCKADDR_OUT | CAP_MSGHDR_OUT | CAP_FDSET | CAP_STRUCT_INOUT
            )
    }
}

/// Precedes each captured value.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureHeader {
    /// Argument index (0-5).
    pub arg: u8,
    /// `CAP_*`.
    pub kind: u8,
    /// `CAPF_*`.
    pub flags: u8,
    /// Element index (argv entries, iovec entries), else 0.
    pub index: u8,
    /// Bytes that follow (before padding to 8).
    pub len: u32,
}
const _: () = assert!(core::mem::size_of::<CaptureHeader>() == 8);

/// Enter-side captures of one syscall, followed by the captures. The exit record of the same
/// thread comes later in the ring buffer.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EnterRecord {
    pub header: RecordHeader,
    pub nr: u32,
    pub _pad: u32,
    /// cgroup v2 id of the calling task: whose record it is, before its exit says so (the
    /// daemon's per-container recordings split the ring buffer's records by container).
    pub cgroup_id: u64,
}
const _: () = assert!(core::mem::size_of::<EnterRecord>() == 40);

/// Bytes a capture takes in a record: header plus data padded to 8.
pub const fn capture_size(len: u32) -> u32 {
    8 + ((len + 7) & !7)
}
