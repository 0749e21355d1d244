//! Argument contents: strings, buffers, socket addresses, iovecs, structs and argv, read from
//! the caller's memory into a per-CPU scratch record, then copied whole into the ring buffer.
//! Only syscalls whose `CAPTURE_SPEC` entry asks for it pay for any of this.
//!
//! The loops (over the six arguments, iovec entries, argv entries) run through `bpf_loop`
//! (kernel 5.17+): the verifier checks each loop body once instead of every unrolled
//! combination, which otherwise exceeds its one-million-instruction budget.
use core::ffi::c_void;

use aya_ebpf::{
    bindings::BPF_F_USER_STACK,
    helpers::generated::{bpf_get_stack, bpf_loop, bpf_probe_read_user, bpf_probe_read_user_str},
};
use tracer_common::capture::{
    CAP_ARGV, CAP_BUF_IN, CAP_BUF_OUT, CAP_FDSET, CAP_IOV_DATA, CAP_IOV_IN, CAP_IOV_OUT,
    CAP_MSG_NAME, CAP_MSG_NAMELEN_IN, CAP_MSGHDR_IN, CAP_MSGHDR_OUT, CAP_SOCKADDR_IN,
    CAP_SOCKADDR_OUT, CAP_SOCKLEN_OUT, CAP_STACK, CAP_STR, CAP_STR_SIZED, CAP_STRUCT_IN,
    CAP_STRUCT_INOUT, CAP_STRUCT_OUT, CAPF_AT_EXIT, CAPF_FAULT, CAPF_SHORT, CAPF_TRUNCATED,
    CaptureHeader, CaptureSpec, LEN_IN_UNKNOWN, LEN_NONE, LEN_PAGES, LEN_RET, MAX_ARGV, MAX_FDSET,
    MAX_IOV, MAX_PATH, MAX_SOCKADDR, MAX_STACK_FRAMES, MAX_STRING_SIZE, MAX_STRUCT_BYTES,
    MSGHDR_NAMELEN_OFF, MSGHDR_SIZE, PAGE_SIZE, SOCKLEN_SIZE,
};

use crate::maps::{ARGS_LOOP, SCRATCH, SCRATCH_OFF, SCRATCH_SIZE, STRING_SIZE, config_u32};

/// Captures start below this offset; each is at most 8 + 4096 bytes, so every write stays in
/// the scratch buffer, and the verifier can see it from the mask.
const OFF_LIMIT: usize = 8192;
const _: () = assert!(OFF_LIMIT + 8 + MAX_PATH as usize + 8 <= SCRATCH_SIZE);

/// The scratch record being built. The write offset lives in map memory (`SCRATCH_OFF`), not
/// on the stack: the verifier then treats it as an unknown scalar, bounded by the mask in
/// `put`, so the `bpf_loop` bodies converge instead of being re-verified for every offset.
pub struct Cursor {
    buf: *mut u8,
    off: *mut u64,
}

impl Cursor {
    /// The per-CPU scratch buffer as left by the previous step.
    #[inline(always)]
    pub fn current() -> Option<Cursor> {
        let buf = SCRATCH.get_ptr_mut(0)?.cast::<u8>();
        let off = SCRATCH_OFF.get_ptr_mut(0)?;
        Some(Cursor { buf, off })
    }

    /// The per-CPU scratch buffer, with the first `start` bytes taken.
    #[inline(always)]
    pub fn new(start: usize) -> Option<Cursor> {
        let c = Self::current()?;
        // SAFETY: per-CPU map value.
        unsafe { *c.off = start as u64 };
        Some(c)
    }

    #[inline(always)]
    pub fn base(&self) -> *mut u8 {
        self.buf
    }

    #[inline(always)]
    pub fn off(&self) -> usize {
        // SAFETY: per-CPU map value.
        unsafe { *self.off as usize }
    }

    /// The data of the capture that starts at offset `at` (a value [`Self::off`] gave before
    /// its `put`), when `len` bytes from there lie in the buffer. The offset is masked as
    /// `put` masks it, so the verifier can bound the pointer.
    #[inline(always)]
    pub fn data_at(&self, at: usize, len: usize) -> Option<*const u8> {
        if at >= OFF_LIMIT || len > MAX_PATH as usize {
            return None;
        }
        let at = at & (OFF_LIMIT - 1);
        // SAFETY: at + 8 + len <= OFF_LIMIT + 8 + MAX_PATH <= SCRATCH_SIZE (checked at compile
        // time beside OFF_LIMIT).
        Some(unsafe { self.buf.add(at + 8) }.cast_const())
    }

    /// The bytes written so far.
    #[inline(always)]
    pub fn bytes(&self) -> Option<&[u8]> {
        let len = self.off();
        if len > SCRATCH_SIZE {
            return None;
        }
        // SAFETY: `buf` is a SCRATCH_SIZE-byte map value; `len` is checked above.
        Some(unsafe { core::slice::from_raw_parts(self.buf, len) })
    }

    /// Adds one capture whose data `read` writes (at most `max` bytes, `max <= 4096`) and
    /// returns as (length, flags).
    #[inline(always)]
    fn put(
        &mut self,
        arg: usize,
        kind: u8,
        index: u32,
        read: impl FnOnce(*mut u8) -> (u32, u8),
    ) -> bool {
        let off = self.off();
        if off >= OFF_LIMIT {
            return false;
        }
        let off = off & (OFF_LIMIT - 1);
        // SAFETY: off < OFF_LIMIT, and header plus data end below SCRATCH_SIZE.
        let (len, flags) = read(unsafe { self.buf.add(off + 8) });
        let len = if len > MAX_PATH { MAX_PATH } else { len };
        let header = CaptureHeader {
            arg: arg as u8,
            kind,
            flags,
            index: index as u8,
            len,
        };
        // SAFETY: as above; `off` is a multiple of 8 in an 8-aligned map value.
        unsafe { self.buf.add(off).cast::<CaptureHeader>().write(header) };
        // SAFETY: per-CPU map value.
        unsafe { *self.off = (off + 8 + ((len as usize + 7) & !7)) as u64 };
        true
    }
}

/// The caller's user stack as a [`CAP_STACK`] capture: `bpf_get_stack` walks the user frame
/// pointers from the registers saved at syscall entry (`task_pt_regs`), so the stack is the
/// caller's at enter and at exit alike. Returns false when the walk failed (the capture then
/// holds no data and [`CAPF_FAULT`]) or the argument captures left no room for it.
#[inline(always)]
pub fn put_stack(c: &mut Cursor, ctx: *mut c_void) -> bool {
    let mut ok = true;
    let room = c.put(0, CAP_STACK, 0, |dst| {
        // SAFETY: `dst` has room for 4096 bytes (Cursor::put), more than the frames asked for;
        // `ctx` is the program's context, passed down from its entry point.
        let r = unsafe {
            bpf_get_stack(
                ctx,
                dst.cast::<c_void>(),
                MAX_STACK_FRAMES * 8,
                u64::from(BPF_F_USER_STACK),
            )
        };
        if r < 0 {
            ok = false;
            (0, CAPF_FAULT)
        } else {
            ((r as u32) & (MAX_STACK_FRAMES * 8 * 2 - 1), 0)
        }
    });
    room && ok
}

#[inline(always)]
fn string_size() -> u32 {
    let s = config_u32(&STRING_SIZE);
    if s > MAX_STRING_SIZE {
        MAX_STRING_SIZE
    } else {
        s
    }
}

/// Reads `len` bytes (clamped to `max`, itself at most 4096) of user memory at `src`.
#[inline(always)]
fn read_bytes(dst: *mut u8, src: u64, len: u64, max: u32) -> (u32, u8) {
    let (n, mut flags) = if len > u64::from(max) {
        (max, CAPF_TRUNCATED)
    } else {
        (len as u32, 0)
    };
    let n = n & (MAX_STRING_SIZE * 2 - 1);
    if n == 0 {
        return (0, flags);
    }
    // SAFETY: `dst` has room for 4096 bytes (Cursor::put); the helper checks `src`.
    let r = unsafe { bpf_probe_read_user(dst.cast::<c_void>(), n, src as *const c_void) };
    if r != 0 {
        flags |= CAPF_FAULT;
        crate::diag::read_failed(src, n, r);
        // The read is all or nothing: keep what lies before the next page, which may be all
        // the decoder needs (CAPF_SHORT). Only on this failure path.
        let avail = (PAGE_SIZE - (src & (PAGE_SIZE - 1))) as u32;
        if avail < n {
            let m = avail & (MAX_STRING_SIZE * 2 - 1);
            // SAFETY: as above, `m` < `n`.
            let r = unsafe { bpf_probe_read_user(dst.cast::<c_void>(), m, src as *const c_void) };
            if m > 0 && r == 0 {
                return (m, flags | CAPF_SHORT);
            }
        }
        return (0, flags);
    }
    (n, flags)
}

/// `fd_set` bytes for `nfds` descriptors: whole longs (fs/select.c, `FDS_BYTES`).
#[inline(always)]
fn fdset_bytes(nfds: u64) -> u64 {
    let n = nfds & 0xffff_ffff;
    n.div_ceil(64) * 8
}

/// Reads a NUL-terminated string of at most `max - 1` bytes.
#[inline(always)]
fn read_str(dst: *mut u8, src: u64, max: u32) -> (u32, u8) {
    let max = max & (MAX_STRING_SIZE * 2 - 1);
    // SAFETY: `dst` has room for `max` (<= 4096) bytes; the helper checks `src`.
    let r = unsafe { bpf_probe_read_user_str(dst.cast::<c_void>(), max, src as *const c_void) };
    if r <= 0 {
        crate::diag::read_failed(src, max, r);
        return (0, CAPF_FAULT);
    }
    let n = (r - 1) as u32; // without the NUL
    let flags = if n + 1 >= max { CAPF_TRUNCATED } else { 0 };
    (n, flags)
}

/// Reads a 4-byte `int` / `socklen_t`: exactly its size, since the next byte may be on a page
/// the process has never touched (a probe read cannot fault it in, and fails whole).
#[inline(always)]
fn read_user_u32(src: u64) -> Option<u32> {
    let mut v = 0u32;
    // SAFETY: reading 4 bytes into a stack u32; the helper checks `src`.
    let r = unsafe {
        bpf_probe_read_user(
            (&mut v as *mut u32).cast::<c_void>(),
            SOCKLEN_SIZE,
            src as *const c_void,
        )
    };
    (r == 0).then_some(v)
}

/// A capture of a 4-byte value already read.
#[inline(always)]
fn put_u32(c: &mut Cursor, arg: usize, kind: u8, v: Option<u32>) {
    c.put(arg, kind, 0, |dst| match v {
        Some(v) => {
            // SAFETY: `dst` has room for 4096 bytes.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    (&v as *const u32).cast::<u8>(),
                    dst,
                    SOCKLEN_SIZE as usize,
                )
            };
            (SOCKLEN_SIZE, 0)
        }
        None => (0, CAPF_FAULT),
    });
}

#[inline(always)]
fn min_u64(a: u64, b: u64) -> u64 {
    if a < b { a } else { b }
}

#[inline(always)]
fn read_user_u64(src: u64) -> Option<u64> {
    let mut v = 0u64;
    // SAFETY: reading 8 bytes into a stack u64; the helper checks `src`.
    let r = unsafe {
        bpf_probe_read_user(
            (&mut v as *mut u64).cast::<c_void>(),
            8,
            src as *const c_void,
        )
    };
    (r == 0).then_some(v)
}

#[inline(always)]
fn count_of(spec: &CaptureSpec, i: usize, args: &[u64; 6], ret: i64) -> u64 {
    match spec.len_arg[i] {
        LEN_NONE => 1,
        LEN_RET => ret.max(0) as u64,
        a if (a as usize) < 6 => args[a as usize],
        a if a & LEN_PAGES != 0 && ((a & 7) as usize) < 6 => {
            args[(a & 7) as usize].div_ceil(PAGE_SIZE)
        }
        _ => 0,
    }
}

/// `all_args`: the enter side's captures (at `sys_enter`).
pub const SIDE_ENTER: u64 = 0;
/// `all_args`: the exit side's captures (at `sys_exit`, after an enter).
pub const SIDE_EXIT: u64 = 1;
/// `all_args`: both sides' captures at `sys_exit`, for a call whose enter was not traced
/// (`--exit-only`: only calls whose inputs read the same at exit are selected).
pub const SIDE_WHOLE: u64 = 2;

/// State shared with the `bpf_loop` bodies, in per-CPU map memory (`ARGS_LOOP`), not on the
/// caller's stack: the kernel counts a `bpf_loop` callback's frame on top of its caller's, and
/// the whole chain must fit in 512 bytes.
#[repr(C)]
pub struct ArgsLoop {
    spec: CaptureSpec,
    args: [u64; 6],
    ret: i64,
    /// `SIDE_*`: which side's captures are read.
    side: u64,
    /// Enter side: set to the address buffer size read (see `Pending::len_in`). Exit side:
    /// that size, the most of an address to read.
    len_in: u64,
    /// Enter side: set bit `i` when argument `i`'s string faulted. Exit side: the strings to
    /// read again (`Pending::retry`).
    retry: u64,
}

/// What the enter side learned for the exit side (`Pending::len_in`, `Pending::retry`).
pub struct EnterFacts {
    pub len_in: u32,
    pub retry: u32,
}

/// Appends the captures of every argument (enter or exit side) to the scratch record. The
/// enter side returns the socket address buffer size passed in (`LEN_IN_UNKNOWN` when none)
/// and the strings it could not read; the exit side is given them.
#[inline(always)]
pub fn all_args(
    spec: &CaptureSpec,
    args: &[u64; 6],
    ret: i64,
    side: u64,
    facts: EnterFacts,
) -> EnterFacts {
    let Some(state) = ARGS_LOOP.get_ptr_mut(0) else {
        return facts;
    };
    // SAFETY: this CPU's slot; programs do not nest on a CPU for these hooks.
    let state = unsafe { &mut *state };
    *state = ArgsLoop {
        spec: *spec,
        args: *args,
        ret,
        side,
        len_in: u64::from(facts.len_in),
        retry: u64::from(facts.retry),
    };
    // SAFETY: `arg_step` has the callback signature and takes no context (its state is in
    // `ARGS_LOOP`).
    unsafe { bpf_loop(6, arg_step as *mut c_void, core::ptr::null_mut(), 0) };
    let Some(state) = ARGS_LOOP.get_ptr(0) else {
        return facts;
    };
    // SAFETY: as above.
    let state = unsafe { &*state };
    EnterFacts {
        len_in: state.len_in as u32,
        retry: state.retry as u32,
    }
}

extern "C" fn arg_step(index: u64, _ctx: *mut c_void) -> i64 {
    let Some(state) = ARGS_LOOP.get_ptr_mut(0) else {
        return 1;
    };
    // SAFETY: this CPU's slot, filled by `all_args` before the loop.
    let state = unsafe { &mut *state };
    if index >= 6 {
        return 1;
    }
    let i = index as usize;
    let Some(mut c) = Cursor::current() else {
        return 1;
    };
    let spec = &state.spec;
    let exit = match state.side {
        SIDE_ENTER => false,
        SIDE_EXIT => true,
        // A call seen at its exit alone: each argument read as its kind says.
        _ => CaptureSpec::is_exit_kind(spec.kind[i]),
    };
    if exit {
        if state.retry & (1 << i) != 0 {
            string_again(&mut c, spec, i, state.args[i]);
        } else {
            let len_in = state.len_in as u32;
            exit_arg(&mut c, spec, i, &state.args, state.ret, len_in);
        }
    } else {
        match enter_arg(&mut c, spec, i, &state.args) {
            Entered::Nothing => {}
            Entered::LenIn(len_in) => state.len_in = u64::from(len_in),
            Entered::StrFault => state.retry |= 1 << i,
        }
    }
    0
}

/// What the enter side of one argument tells the exit side.
enum Entered {
    Nothing,
    /// The size of a socket address buffer, which the call overwrites.
    LenIn(u32),
    /// The string could not be read: read it again at exit.
    StrFault,
}

/// Most bytes of a string argument: a path's PATH_MAX, else two more than the string size
/// (room for the NUL, and a byte to tell "longer" apart: strace prints `...` only after a
/// string longer than `-s`).
#[inline(always)]
fn str_max(kind: u8) -> u32 {
    if kind == CAP_STR {
        MAX_PATH
    } else {
        string_size() + 2
    }
}

/// The enter-side captures of argument `i`, and what the exit side needs to know of them.
#[inline(always)]
fn enter_arg(c: &mut Cursor, spec: &CaptureSpec, i: usize, args: &[u64; 6]) -> Entered {
    let kind = spec.kind[i];
    let src = args[i];
    if src == 0 || !CaptureSpec::reads_at_enter(kind) {
        return Entered::Nothing;
    }
    match kind {
        CAP_STR | CAP_STR_SIZED => {
            let max = str_max(kind);
            let mut flags = 0;
            c.put(i, kind, 0, |dst| {
                let r = read_str(dst, src, max);
                flags = r.1;
                r
            });
            if flags & CAPF_FAULT != 0 {
                return Entered::StrFault;
            }
        }
        CAP_SOCKADDR_OUT => {
            // `int *addrlen` (accept4, getsockname, getpeername, recvfrom in net/socket.c):
            // the buffer's size in, the address's length out.
            let a = spec.len_arg[i];
            if (a as usize) < 6
                && let Some(len_in) = read_user_u32(args[a as usize])
            {
                return Entered::LenIn(len_in);
            }
        }
        CAP_MSGHDR_OUT => {
            // recvmsg: `msg_namelen` in is the name buffer's size; ___sys_recvmsg
            // (net/socket.c) writes the name's real length over it.
            let namelen = read_user_u32(src + MSGHDR_NAMELEN_OFF);
            put_u32(c, i, CAP_MSG_NAMELEN_IN, namelen);
            if let Some(n) = namelen {
                return Entered::LenIn(n);
            }
        }
        CAP_BUF_IN => {
            let len = count_of(spec, i, args, 0);
            c.put(i, kind, 0, |dst| read_bytes(dst, src, len, string_size()));
        }
        CAP_SOCKADDR_IN => {
            let len = count_of(spec, i, args, 0);
            c.put(i, kind, 0, |dst| read_bytes(dst, src, len, MAX_SOCKADDR));
        }
        CAP_STRUCT_IN | CAP_STRUCT_INOUT => {
            let len = count_of(spec, i, args, 0) * u64::from(spec.size[i]);
            c.put(i, kind, 0, |dst| {
                read_bytes(dst, src, len, MAX_STRUCT_BYTES)
            });
        }
        CAP_IOV_IN => iov(c, i, kind, src, count_of(spec, i, args, 0), u64::MAX),
        CAP_FDSET => {
            let len = fdset_bytes(count_of(spec, i, args, 0));
            c.put(i, kind, 0, |dst| read_bytes(dst, src, len, MAX_FDSET));
        }
        CAP_ARGV => argv(c, i, src),
        CAP_MSGHDR_IN => msghdr(c, i, kind, src, u64::MAX, LEN_IN_UNKNOWN),
        _ => {}
    }
    Entered::Nothing
}

/// A string argument read again at exit, after its read at enter faulted: the call copied it
/// (`getname`, fs/namei.c; `strncpy_from_user`), faulting its page in, so it can be read now.
#[inline(always)]
fn string_again(c: &mut Cursor, spec: &CaptureSpec, i: usize, src: u64) {
    let kind = spec.kind[i];
    if src == 0 || (kind != CAP_STR && kind != CAP_STR_SIZED) {
        return;
    }
    let max = str_max(kind);
    c.put(i, kind, 0, |dst| {
        let (n, flags) = read_str(dst, src, max);
        (n, flags | CAPF_AT_EXIT)
    });
}

/// The exit-side captures of argument `i` (only after a successful call). `len_in`: the socket
/// address buffer size read at enter.
#[inline(always)]
fn exit_arg(c: &mut Cursor, spec: &CaptureSpec, i: usize, args: &[u64; 6], ret: i64, len_in: u32) {
    let kind = spec.kind[i];
    let src = args[i];
    if src == 0 || !CaptureSpec::is_exit_kind(kind) {
        return;
    }
    if ret < 0 {
        // A failed preadv: its array, without data.
        if kind == CAP_IOV_OUT {
            iov(c, i, kind, src, count_of(spec, i, args, ret), 0);
        }
        return;
    }
    match kind {
        CAP_BUF_OUT => {
            let limit = count_of(spec, i, args, ret);
            let len = if (ret as u64) < limit {
                ret as u64
            } else {
                limit
            };
            c.put(i, kind, 0, |dst| read_bytes(dst, src, len, string_size()));
        }
        CAP_SOCKADDR_OUT => {
            // The length argument is an `int *` updated by the call: the address's real
            // length, recorded as such. `move_addr_to_user` (net/socket.c) copied only
            // min(buffer size, length) bytes of it: read no more, past them may be a page
            // the process never touched.
            let a = spec.len_arg[i];
            if (a as usize) >= 6 {
                return;
            }
            let out = read_user_u32(args[a as usize]);
            put_u32(c, a as usize, CAP_SOCKLEN_OUT, out);
            match out {
                Some(out) => {
                    let len = min_u64(u64::from(out), u64::from(len_in));
                    c.put(i, kind, 0, |dst| read_bytes(dst, src, len, MAX_SOCKADDR));
                }
                None => {
                    c.put(i, kind, 0, |_| (0, CAPF_FAULT));
                }
            }
        }
        CAP_STRUCT_OUT => {
            let len = count_of(spec, i, args, ret) * u64::from(spec.size[i]);
            c.put(i, kind, 0, |dst| {
                read_bytes(dst, src, len, MAX_STRUCT_BYTES)
            });
        }
        CAP_IOV_OUT => iov(c, i, kind, src, count_of(spec, i, args, ret), ret as u64),
        CAP_MSGHDR_OUT => msghdr(c, i, kind, src, ret as u64, len_in),
        CAP_STRUCT_INOUT => {
            let len = count_of(spec, i, args, ret) * u64::from(spec.size[i]);
            c.put(i, kind, 0, |dst| {
                let (n, flags) = read_bytes(dst, src, len, MAX_STRUCT_BYTES);
                (n, flags | CAPF_AT_EXIT)
            });
        }
        // The sets the call returned ready (none when it timed out).
        CAP_FDSET if ret > 0 => {
            let len = fdset_bytes(count_of(spec, i, args, ret));
            c.put(i, kind, 0, |dst| {
                let (n, flags) = read_bytes(dst, src, len, MAX_FDSET);
                (n, flags | CAPF_AT_EXIT)
            });
        }
        _ => {}
    }
}

/// `struct user_msghdr` (include/linux/socket.h), 64-bit layout: msg_name, msg_namelen (int,
/// padded), msg_iov, msg_iovlen, msg_control, msg_controllen, msg_flags. `namelen_in`: the
/// name buffer's size (recvmsg: read at enter), the most of the name to read.
#[inline(always)]
fn msghdr(c: &mut Cursor, i: usize, kind: u8, src: u64, total: u64, namelen_in: u32) {
    // Read straight into the capture (map memory), then its fields from there: a copy on the
    // stack would grow the frame that the loop's whole call chain shares.
    let at = c.off();
    let mut read = false;
    c.put(i, kind, 0, |dst| {
        // SAFETY: `dst` has room for 4096 bytes; the helper checks `src`.
        let r =
            unsafe { bpf_probe_read_user(dst.cast::<c_void>(), MSGHDR_SIZE, src as *const c_void) };
        read = r == 0;
        if read {
            (MSGHDR_SIZE, 0)
        } else {
            (0, CAPF_FAULT)
        }
    });
    if !read {
        return;
    }
    let Some(m) = c.data_at(at, MSGHDR_SIZE as usize) else {
        return;
    };
    // SAFETY: `data_at` checked that the capture holds the whole header, 8-aligned.
    let field = |k: usize| unsafe { m.cast::<u64>().add(k).read() };
    // recvmsg wrote min(buffer, real length) bytes of the name (move_addr_to_user).
    let (name, namelen) = (
        field(0),
        min_u64(field(1) & 0xffff_ffff, u64::from(namelen_in)),
    );
    let (iov_base, iov_len) = (field(2), field(3));
    if name != 0 && namelen != 0 {
        c.put(i, CAP_MSG_NAME, 0, |dst| {
            read_bytes(dst, name, namelen, MAX_SOCKADDR)
        });
    }
    let iov_kind = if kind == CAP_MSGHDR_IN {
        CAP_IOV_IN
    } else {
        CAP_IOV_OUT
    };
    if iov_base != 0 {
        iov(c, i, iov_kind, iov_base, iov_len, total);
    }
}

/// State of the `bpf_loop` over iovec entries: the entries themselves are read from the
/// capture of the array (map memory), at `pairs_at`.
#[repr(C)]
struct IovLoop {
    pairs_at: u64,
    n: u64,
    left: u64,
    arg: u64,
}

/// The iovec array (`count` entries, at most MAX_IOV), then the bytes of each entry, at most
/// the string size each and `total` over all.
#[inline(always)]
fn iov(c: &mut Cursor, i: usize, kind: u8, src: u64, count: u64, total: u64) {
    let n = if count > u64::from(MAX_IOV) {
        u64::from(MAX_IOV)
    } else {
        count
    };
    let truncated = if count > n { CAPF_TRUNCATED } else { 0 };
    let at = c.off();
    let mut readable = 0u32;
    c.put(i, kind, 0, |dst| {
        let bytes = (n * 16) as u32 & 0xff;
        if bytes == 0 {
            return (0, truncated);
        }
        // SAFETY: `dst` has room for 4096 bytes, `bytes` is at most MAX_IOV * 16 = 128; the
        // helper checks `src`.
        let r = unsafe { bpf_probe_read_user(dst.cast::<c_void>(), bytes, src as *const c_void) };
        if r == 0 {
            readable = bytes;
            return (bytes, truncated);
        }
        // The entries before the next page may be readable (strace prints them, then
        // `... /* address */`): keep them, CAPF_SHORT.
        let whole = ((PAGE_SIZE - (src & (PAGE_SIZE - 1))) / 16 * 16) as u32;
        if whole > 0 && whole < bytes {
            let m = whole & 0x7f;
            // SAFETY: as above, `m` < `bytes`.
            let r = unsafe { bpf_probe_read_user(dst.cast::<c_void>(), m, src as *const c_void) };
            if r == 0 {
                readable = m;
                return (m, truncated | CAPF_FAULT | CAPF_SHORT);
            }
        }
        (0, truncated | CAPF_FAULT)
    });
    if readable == 0 {
        return;
    }
    let mut state = IovLoop {
        pairs_at: at as u64,
        n: u64::from(readable / 16),
        left: total,
        arg: i as u64,
    };
    // SAFETY: `iov_step` has the callback signature; `state` outlives the call.
    unsafe {
        bpf_loop(
            MAX_IOV,
            iov_step as *mut c_void,
            (&mut state as *mut IovLoop).cast::<c_void>(),
            0,
        )
    };
}

extern "C" fn iov_step(index: u64, ctx: *mut c_void) -> i64 {
    // SAFETY: `ctx` is the IovLoop passed to bpf_loop by `iov`.
    let state = unsafe { &mut *ctx.cast::<IovLoop>() };
    if index >= state.n || index >= u64::from(MAX_IOV) || state.left == 0 {
        return 1;
    }
    let Some(mut c) = Cursor::current() else {
        return 1;
    };
    let Some(pairs) = c.data_at(state.pairs_at as usize, MAX_IOV as usize * 16) else {
        return 1;
    };
    let k = (index & (MAX_IOV as u64 - 1)) as usize;
    // SAFETY: `data_at` checked room for MAX_IOV entries of 16 bytes; `k` < MAX_IOV.
    let (base, want) = unsafe {
        let p = pairs.cast::<u64>().add(k * 2);
        (p.read(), p.add(1).read())
    };
    let len = if want < state.left { want } else { state.left };
    state.left -= len;
    let ok = c.put(state.arg as usize, CAP_IOV_DATA, index as u32, |dst| {
        read_bytes(dst, base, len, string_size())
    });
    if ok { 0 } else { 1 }
}

#[repr(C)]
struct ArgvLoop {
    src: u64,
    arg: u64,
    done: u64,
}

/// argv: the first MAX_ARGV strings, each at most the string size; a last empty capture with
/// `CAPF_TRUNCATED` when there are more.
#[inline(always)]
fn argv(c: &mut Cursor, i: usize, src: u64) {
    let mut state = ArgvLoop {
        src,
        arg: i as u64,
        done: 0,
    };
    // SAFETY: `argv_step` has the callback signature; `state` outlives the call.
    unsafe {
        bpf_loop(
            MAX_ARGV,
            argv_step as *mut c_void,
            (&mut state as *mut ArgvLoop).cast::<c_void>(),
            0,
        )
    };
    if state.done == 0 && read_user_u64(src + u64::from(MAX_ARGV) * 8).is_some_and(|p| p != 0) {
        c.put(i, CAP_ARGV, MAX_ARGV, |_| (0, CAPF_TRUNCATED));
    }
}

extern "C" fn argv_step(index: u64, ctx: *mut c_void) -> i64 {
    // SAFETY: `ctx` is the ArgvLoop passed to bpf_loop by `argv`.
    let state = unsafe { &mut *ctx.cast::<ArgvLoop>() };
    let Some(mut c) = Cursor::current() else {
        return 1;
    };
    let arg = state.arg as usize;
    let k = index as u32;
    let Some(p) = read_user_u64(state.src + index * 8) else {
        c.put(arg, CAP_ARGV, k, |_| (0, CAPF_FAULT));
        state.done = 1;
        return 1;
    };
    if p == 0 {
        state.done = 1;
        return 1;
    }
    // Two more than the string size: room for the NUL, and a byte to tell "longer" apart.
    let max = string_size() + 2;
    let ok = c.put(arg, CAP_ARGV, k, |dst| read_str(dst, p, max));
    if ok { 0 } else { 1 }
}
