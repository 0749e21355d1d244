//! fcntl(2) as strace 6.1 prints it (src/fcntl.c): the third argument by command (a struct
//! flock, a struct f_owner_ex, DN_* flags, a lease type, a signal…) and the decorated return
//! values of the F_GET* commands (`= 0x1 (flags FD_CLOEXEC)`, `= 0x2 (F_UNLCK)`, `= 1 (SIGHUP)`).
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{SyscallEvent, errno, flags, structs::Decoded, syscalls};

/// fcntl commands (include/uapi/asm-generic/fcntl.h, include/uapi/linux/fcntl.h).
pub const F_DUPFD: u32 = 0;
pub const F_GETFD: u32 = 1;
pub const F_SETFD: u32 = 2;
pub const F_GETFL: u32 = 3;
pub const F_SETFL: u32 = 4;
pub const F_GETLK: u32 = 5;
pub const F_SETLK: u32 = 6;
pub const F_SETLKW: u32 = 7;
pub const F_SETOWN: u32 = 8;
pub const F_GETOWN: u32 = 9;
pub const F_SETSIG: u32 = 10;
pub const F_GETSIG: u32 = 11;
pub const F_SETOWN_EX: u32 = 15;
pub const F_GETOWN_EX: u32 = 16;
pub const F_OFD_GETLK: u32 = 36;
pub const F_OFD_SETLK: u32 = 37;
pub const F_OFD_SETLKW: u32 = 38;
pub const F_SETLEASE: u32 = 1024;
pub const F_GETLEASE: u32 = 1025;
pub const F_NOTIFY: u32 = 1026;
pub const F_DUPFD_CLOEXEC: u32 = 1030;
pub const F_SETPIPE_SZ: u32 = 1031;
pub const F_GETPIPE_SZ: u32 = 1032;
pub const F_ADD_SEALS: u32 = 1033;
pub const F_GET_SEALS: u32 = 1034;

/// `sizeof(struct flock)` on 64-bit ABIs (the same layout as struct flock64): the bytes the
/// kernel program reads for fcntl's third argument.
pub const FLOCK_SIZE: usize = 32;

/// Whether strace prints a third argument for `cmd` (the F_GET* commands take none; F_GETLK,
/// F_OFD_GETLK and F_GETOWN_EX take the structure they fill).
pub fn has_arg(cmd: u32) -> bool {
    !matches!(
        cmd,
        F_GETFD | F_GETFL | F_GETOWN | F_GETLEASE | F_GETPIPE_SZ | F_GET_SEALS | F_GETSIG
    )
}

/// Whether `cmd` takes a pointer to a structure that the kernel reads (decoded from the bytes
/// captured at enter).
pub fn reads_struct(cmd: u32) -> bool {
    matches!(
        cmd,
        F_SETLK | F_SETLKW | F_OFD_SETLK | F_OFD_SETLKW | F_SETOWN_EX
    )
}

/// Whether `cmd` takes a pointer at all (a structure read or written by the kernel).
pub fn takes_pointer(cmd: u32) -> bool {
    reads_struct(cmd) || matches!(cmd, F_GETLK | F_OFD_GETLK | F_GETOWN_EX)
}

/// The third argument of a command that is not a pointer, as strace prints it.
pub fn arg_text(cmd: u32, raw: u64) -> (String, Value) {
    let s = match cmd {
        F_SETFD => flags::flags_string(raw, flags::FD_FLAGS, "0", "FD_???"),
        F_SETOWN | F_SETPIPE_SZ | F_DUPFD | F_DUPFD_CLOEXEC => {
            let v = raw as i64;
            return (v.to_string(), json!(v));
        }
        F_SETFL => {
            let mut s = String::new();
            flags::open_flags(&mut s, raw & 0xffff_ffff);
            s
        }
        F_NOTIFY => flags::flags_string(raw, flags::DN_FLAGS, "0", "DN_???"),
        F_SETLEASE => flags::xval_string(raw, flags::LOCK_TYPES, "F_???"),
        F_ADD_SEALS => flags::flags_string(raw, flags::F_SEALS, "0", "F_SEAL_???"),
        F_SETSIG => flags::signal_string(i64::from(raw as u32 as i32)),
        // strace: PRINT_VAL_X for the commands it does not know.
        _ if raw == 0 => "0".into(),
        _ => format!("{raw:#x}"),
    };
    let j = json!(s);
    (s, j)
}

/// `{l_type=F_RDLCK, l_whence=SEEK_SET, l_start=0, l_len=4096}`, with `l_pid` for the
/// F_GETLK commands (struct flock, 64-bit layout: two shorts, padding, two off_t, a pid_t).
pub fn flock(b: &[u8], getlk: bool) -> Option<Decoded> {
    // Shorts, zero-extended as strace's PRINT_FIELD_XVAL does.
    let ty = u64::from(u16::from_ne_bytes(b.get(0..2)?.try_into().ok()?));
    let whence_v = u64::from(u16::from_ne_bytes(b.get(2..4)?.try_into().ok()?));
    let start = i64::from_ne_bytes(b.get(8..16)?.try_into().ok()?);
    let len = i64::from_ne_bytes(b.get(16..24)?.try_into().ok()?);
    let pid = i32::from_ne_bytes(b.get(24..28)?.try_into().ok()?);
    let l_type = flags::xval_string(ty, flags::LOCK_TYPES, "F_???");
    let l_whence = flags::xval_string(whence_v, flags::SEEK, "SEEK_???");
    let mut text = format!("{{l_type={l_type}, l_whence={l_whence}, l_start={start}, l_len={len}");
    let mut j = json!({"l_type": l_type, "l_whence": l_whence, "l_start": start, "l_len": len});
    if getlk {
        let _ = write!(text, ", l_pid={pid}");
        j["l_pid"] = json!(pid);
    }
    text.push('}');
    Some((text, j))
}

/// `{type=F_OWNER_PID, pid=1234}` (struct f_owner_ex: two ints).
pub fn f_owner_ex(b: &[u8]) -> Option<Decoded> {
    let ty = i32::from_ne_bytes(b.get(0..4)?.try_into().ok()?);
    let pid = i32::from_ne_bytes(b.get(4..8)?.try_into().ok()?);
    let t = flags::xval_string(u64::from(ty as u32), flags::F_OWNER_TYPES, "F_OWNER_???");
    Some((
        format!("{{type={t}, pid={pid}}}"),
        json!({"type": t, "pid": pid}),
    ))
}

/// The struct a command's pointer refers to, from the bytes captured at enter; None for the
/// commands that take no such pointer (their argument is printed as a value).
pub fn structure(cmd: u32, b: &[u8]) -> Option<Decoded> {
    match cmd {
        F_SETLK | F_SETLKW | F_OFD_SETLK | F_OFD_SETLKW => flock(b, false),
        F_SETOWN_EX => f_owner_ex(b),
        _ => None,
    }
}

/// C's `%#x` of a return value.
fn hex(v: i64) -> String {
    if v == 0 {
        "0".into()
    } else {
        format!("{:#x}", v as u64)
    }
}

/// The whole return value text after `= ` where strace decorates it, None where it prints the
/// plain number: fcntl's F_GETFD (`0x1 (flags FD_CLOEXEC)`), F_GETFL, F_GETLEASE,
/// F_GET_SEALS and F_GETSIG (`1 (SIGHUP)`).
pub fn ret_decoration(ev: &SyscallEvent) -> Option<String> {
    let ret = ev.ret?;
    if errno::of_ret(ret).is_some() {
        return None;
    }
    let name = syscalls::name(ev.nr)?;
    if name != "fcntl" && name != "fcntl64" {
        return None;
    }
    let cmd = ev.args[1] as u32;
    let v = ret as u64;
    Some(match cmd {
        F_GETFD if ret != 0 => format!(
            "{} (flags {})",
            hex(ret),
            flags::bits_string(v, flags::FD_FLAGS, "0")
        ),
        F_GETFL => {
            let mut s = format!("{} (flags ", hex(ret));
            flags::open_flags(&mut s, v & 0xffff_ffff);
            s.push(')');
            s
        }
        F_GETLEASE => match flags::LOCK_TYPES.iter().find(|(x, _)| *x == v) {
            Some((_, n)) => format!("{} ({n})", hex(ret)),
            None => hex(ret),
        },
        F_GET_SEALS if ret != 0 => format!(
            "{} (seals {})",
            hex(ret),
            flags::bits_string(v, flags::F_SEALS, "0")
        ),
        // strace's signame: no name (and no parentheses) outside 1..=SIGRTMAX.
        F_GETSIG if (1..=flags::SIGRTMAX).contains(&ret) => {
            format!("{ret} ({})", flags::signal_string(ret))
        }
        _ => return None,
    })
}
