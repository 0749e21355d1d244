//! Resource and process structures read from the traced process (64-bit layouts), printed as
//! strace 6.1 prints them: `struct rusage`, `struct sysinfo`, `siginfo_t`, CPU affinity masks,
//! arrays of ids and the `[value]` of an int written back. Every decoder returns None on a
//! capture too short for its structure (the caller then prints the address).
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::{errno, flags, structs::Decoded, syscalls, time};

/// `sizeof(struct rusage)`: two timevals and 14 longs.
pub const RUSAGE_SIZE: usize = 144;
/// `sizeof(struct sysinfo)` on 64-bit kernels.
pub const SYSINFO_SIZE: usize = 112;
/// `sizeof(siginfo_t)`.
pub const SIGINFO_SIZE: usize = 128;

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    u32_at(b, at).map(|v| v as i32)
}
fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// getrusage's `who` (strace's usagewho), as the 32-bit `int` argument.
pub const USAGE_WHO: flags::Table = &[
    (0, "RUSAGE_SELF"),
    ((-1i32) as u32 as u64, "RUSAGE_CHILDREN"),
    ((-2i32) as u32 as u64, "RUSAGE_BOTH"),
    (1, "RUSAGE_THREAD"),
];
/// getitimer/setitimer's `which`.
pub const ITIMER_WHICH: flags::Table = &[
    (0, "ITIMER_REAL"),
    (1, "ITIMER_VIRTUAL"),
    (2, "ITIMER_PROF"),
];
/// timerfd_settime's flags.
pub const TFD_SETTIME_FLAGS: flags::Table =
    &[(1, "TFD_TIMER_ABSTIME"), (2, "TFD_TIMER_CANCEL_ON_SET")];
/// waitid's `idtype`.
pub const WAITID_TYPES: flags::Table = &[(0, "P_ALL"), (1, "P_PID"), (2, "P_PGID"), (3, "P_PIDFD")];

const RUSAGE_LONGS: [&str; 14] = [
    "ru_maxrss",
    "ru_ixrss",
    "ru_idrss",
    "ru_isrss",
    "ru_minflt",
    "ru_majflt",
    "ru_nswap",
    "ru_inblock",
    "ru_oublock",
    "ru_msgsnd",
    "ru_msgrcv",
    "ru_nsignals",
    "ru_nvcsw",
    "ru_nivcsw",
];

/// `{ru_utime={tv_sec=0, tv_usec=860}, ru_stime={…}, ...}`, every field with -v (`no_abbrev`).
/// JSON always carries every field.
pub fn rusage(b: &[u8], no_abbrev: bool) -> Option<Decoded> {
    if b.len() < RUSAGE_SIZE {
        return None;
    }
    let (ut, jut) = time::timeval(b)?;
    let (st, jst) = time::timeval(b.get(16..)?)?;
    let mut text = format!("{{ru_utime={ut}, ru_stime={st}");
    let mut o = Map::new();
    o.insert("ru_utime".into(), jut);
    o.insert("ru_stime".into(), jst);
    for (k, name) in RUSAGE_LONGS.iter().enumerate() {
        let v = u64_at(b, 32 + 8 * k)?;
        if no_abbrev {
            let _ = write!(text, ", {name}={v}");
        }
        o.insert((*name).into(), json!(v));
    }
    text.push_str(if no_abbrev { "}" } else { ", ...}" });
    Some((text, Value::Object(o)))
}

/// `{uptime=10162, loads=[399200, 306720, 184448], totalram=…, …, mem_unit=1}`.
pub fn sysinfo(b: &[u8]) -> Option<Decoded> {
    if b.len() < SYSINFO_SIZE {
        return None;
    }
    let uptime = u64_at(b, 0)?;
    let loads = [u64_at(b, 8)?, u64_at(b, 16)?, u64_at(b, 24)?];
    let mut text = format!(
        "{{uptime={uptime}, loads=[{}, {}, {}]",
        loads[0], loads[1], loads[2]
    );
    let mut o = Map::new();
    o.insert("uptime".into(), json!(uptime));
    o.insert("loads".into(), json!(loads));
    let mut field = |name: &str, v: u64| {
        let _ = write!(text, ", {name}={v}");
        o.insert(name.into(), json!(v));
    };
    for (k, name) in [
        "totalram",
        "freeram",
        "sharedram",
        "bufferram",
        "totalswap",
        "freeswap",
    ]
    .iter()
    .enumerate()
    {
        field(name, u64_at(b, 32 + 8 * k)?);
    }
    field("procs", u64::from(u16_at(b, 80)?));
    field("totalhigh", u64_at(b, 88)?);
    field("freehigh", u64_at(b, 96)?);
    field("mem_unit", u64::from(u32_at(b, 104)?));
    text.push('}');
    Some((text, Value::Object(o)))
}

const SIGINFO_CODES: flags::Table = &[
    (0, "SI_USER"),
    (0x80, "SI_KERNEL"),
    ((-1i32) as u32 as u64, "SI_QUEUE"),
    ((-2i32) as u32 as u64, "SI_TIMER"),
    ((-3i32) as u32 as u64, "SI_MESGQ"),
    ((-4i32) as u32 as u64, "SI_ASYNCIO"),
    ((-5i32) as u32 as u64, "SI_SIGIO"),
    ((-6i32) as u32 as u64, "SI_TKILL"),
    ((-7i32) as u32 as u64, "SI_DETHREAD"),
    ((-60i32) as u32 as u64, "SI_ASYNCNL"),
    (32767, "SI_NOINFO"),
];
const SIGCHLD_CODES: flags::Table = &[
    (1, "CLD_EXITED"),
    (2, "CLD_KILLED"),
    (3, "CLD_DUMPED"),
    (4, "CLD_TRAPPED"),
    (5, "CLD_STOPPED"),
    (6, "CLD_CONTINUED"),
];
const SIGILL_CODES: flags::Table = &[
    (1, "ILL_ILLOPC"),
    (2, "ILL_ILLOPN"),
    (3, "ILL_ILLADR"),
    (4, "ILL_ILLTRP"),
    (5, "ILL_PRVOPC"),
    (6, "ILL_PRVREG"),
    (7, "ILL_COPROC"),
    (8, "ILL_BADSTK"),
];
const SIGFPE_CODES: flags::Table = &[
    (1, "FPE_INTDIV"),
    (2, "FPE_INTOVF"),
    (3, "FPE_FLTDIV"),
    (4, "FPE_FLTOVF"),
    (5, "FPE_FLTUND"),
    (6, "FPE_FLTRES"),
    (7, "FPE_FLTINV"),
    (8, "FPE_FLTSUB"),
    (14, "FPE_FLTUNK"),
    (15, "FPE_CONDTRAP"),
];
const SIGSEGV_CODES: flags::Table = &[
    (1, "SEGV_MAPERR"),
    (2, "SEGV_ACCERR"),
    (3, "SEGV_BNDERR"),
    (4, "SEGV_PKUERR"),
    (5, "SEGV_ACCADI"),
    (6, "SEGV_ADIDERR"),
    (7, "SEGV_ADIPERR"),
    (8, "SEGV_MTEAERR"),
    (9, "SEGV_MTESERR"),
];
const SIGBUS_CODES: flags::Table = &[
    (1, "BUS_ADRALN"),
    (2, "BUS_ADRERR"),
    (3, "BUS_OBJERR"),
    (4, "BUS_MCEERR_AR"),
    (5, "BUS_MCEERR_AO"),
];
const SIGTRAP_CODES: flags::Table = &[
    (1, "TRAP_BRKPT"),
    (2, "TRAP_TRACE"),
    (3, "TRAP_BRANCH"),
    (4, "TRAP_HWBKPT"),
    (5, "TRAP_UNK"),
    (6, "TRAP_PERF"),
];
const SIGPOLL_CODES: flags::Table = &[
    (1, "POLL_IN"),
    (2, "POLL_OUT"),
    (3, "POLL_MSG"),
    (4, "POLL_ERR"),
    (5, "POLL_PRI"),
    (6, "POLL_HUP"),
];
const SIGSYS_CODES: flags::Table = &[(1, "SYS_SECCOMP"), (2, "SYS_USER_DISPATCH")];
const AUDIT_ARCH: flags::Table = &[
    (0xc000_003e, "AUDIT_ARCH_X86_64"),
    (0x4000_0003, "AUDIT_ARCH_I386"),
    (0xc000_00b7, "AUDIT_ARCH_AARCH64"),
    (0x4000_0028, "AUDIT_ARCH_ARM"),
];
#[cfg(target_arch = "x86_64")]
const HOST_AUDIT_ARCH: u32 = 0xc000_003e;
#[cfg(not(target_arch = "x86_64"))]
const HOST_AUDIT_ARCH: u32 = 0xc000_00b7;

fn si_code_name(code: i32, signo: i32) -> String {
    let c = u64::from(code as u32);
    let by_signal = match signo {
        libc::SIGTRAP => SIGTRAP_CODES,
        libc::SIGCHLD => SIGCHLD_CODES,
        libc::SIGIO => SIGPOLL_CODES,
        libc::SIGILL => SIGILL_CODES,
        libc::SIGFPE => SIGFPE_CODES,
        libc::SIGSEGV => SIGSEGV_CODES,
        libc::SIGBUS => SIGBUS_CODES,
        libc::SIGSYS => SIGSYS_CODES,
        _ => &[],
    };
    SIGINFO_CODES
        .iter()
        .chain(by_signal.iter())
        .find(|(v, _)| *v == c)
        .map_or_else(|| format!("{c:#x}"), |(_, n)| (*n).to_string())
}

fn ptr_text(v: u64) -> String {
    if v == 0 {
        "NULL".into()
    } else {
        format!("{v:#x}")
    }
}

/// An id as strace prints one: unsigned, but -1 as `-1`.
fn id_text(v: u32) -> String {
    if v == u32::MAX {
        "-1".into()
    } else {
        v.to_string()
    }
}

/// `{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=…, si_uid=0, si_status=42, si_utime=0,
/// si_stime=0}`, `{}` when no signal is set (waitid with WNOHANG and no child to report).
pub fn siginfo(b: &[u8]) -> Option<Decoded> {
    if b.len() < SIGINFO_SIZE {
        return None;
    }
    let signo = i32_at(b, 0)?;
    let si_errno = i32_at(b, 4)?;
    let code = i32_at(b, 8)?;
    let mut text = String::from("{");
    let mut o = Map::new();
    if signo == 0 {
        return Some(("{}".into(), Value::Object(o)));
    }
    let mut put = |name: &str, t: String, j: Value| {
        if !text.ends_with('{') {
            text.push_str(", ");
        }
        let _ = write!(text, "{name}={t}");
        o.insert(name.into(), j);
    };
    let sig = flags::signal_string(i64::from(signo));
    put("si_signo", sig.clone(), json!(sig));
    let c = si_code_name(code, signo);
    put("si_code", c.clone(), json!(c));
    if code != 32767 {
        if si_errno != 0 {
            let e = errno::name(si_errno);
            let e = if e.starts_with('E') && e[1..].bytes().all(|b| b.is_ascii_digit()) {
                si_errno.to_string()
            } else {
                e
            };
            put("si_errno", e.clone(), json!(e));
        }
        let pid = i32_at(b, 16)?;
        let uid = u32_at(b, 20)?;
        let int = i32_at(b, 24)?;
        let sival = u64_at(b, 24)?;
        let addr = u64_at(b, 16)?;
        let source = |put: &mut dyn FnMut(&str, String, Value)| {
            put("si_pid", pid.to_string(), json!(pid));
            put("si_uid", id_text(uid), json!(uid));
        };
        let sigval = |put: &mut dyn FnMut(&str, String, Value)| {
            put("si_int", int.to_string(), json!(int));
            put("si_ptr", ptr_text(sival), json!(sival));
        };
        if code <= 0 {
            match code {
                // SI_TIMER
                -2 => {
                    put("si_timerid", format!("{:#x}", pid as u32), json!(pid));
                    put("si_overrun", (uid as i32).to_string(), json!(uid as i32));
                    sigval(&mut put);
                }
                // SI_SIGIO
                -5 => {
                    let band = u64_at(b, 16)? as i64;
                    let fd = i32_at(b, 24)?;
                    put("si_band", band.to_string(), json!(band));
                    put("si_fd", fd.to_string(), json!(fd));
                }
                // SI_USER, SI_TKILL
                0 | -6 => source(&mut put),
                _ => {
                    source(&mut put);
                    if sival != 0 {
                        sigval(&mut put);
                    }
                }
            }
        } else {
            match signo {
                libc::SIGCHLD => {
                    source(&mut put);
                    let status = if code == 1 {
                        int.to_string()
                    } else {
                        flags::signal_string(i64::from(int))
                    };
                    put("si_status", status.clone(), json!(status));
                    for (name, at) in [("si_utime", 32), ("si_stime", 40)] {
                        let v = u64_at(b, at)?;
                        let mut t = String::new();
                        time::clock_t(&mut t, v);
                        put(name, t, json!(v));
                    }
                }
                libc::SIGILL | libc::SIGFPE | libc::SIGBUS | libc::SIGSEGV | libc::SIGTRAP => {
                    put("si_addr", ptr_text(addr), json!(addr));
                    match (signo, code) {
                        // BUS_MCEERR_AR, BUS_MCEERR_AO
                        (libc::SIGBUS, 4 | 5) => {
                            let lsb = u16_at(b, 24)?;
                            put("si_addr_lsb", format!("{lsb:#x}"), json!(lsb));
                        }
                        // SEGV_BNDERR
                        (libc::SIGSEGV, 3) => {
                            let (lo, hi) = (u64_at(b, 32)?, u64_at(b, 40)?);
                            put("si_lower", ptr_text(lo), json!(lo));
                            put("si_upper", ptr_text(hi), json!(hi));
                        }
                        // SEGV_PKUERR
                        (libc::SIGSEGV, 4) => {
                            let pkey = u32_at(b, 32)?;
                            put("si_pkey", pkey.to_string(), json!(pkey));
                        }
                        _ => {}
                    }
                }
                libc::SIGIO => {
                    if (1..=6).contains(&code) {
                        let band = u64_at(b, 16)? as i64;
                        let fd = i32_at(b, 24)?;
                        put("si_band", band.to_string(), json!(band));
                        put("si_fd", fd.to_string(), json!(fd));
                    }
                }
                libc::SIGSYS => {
                    put("si_call_addr", ptr_text(addr), json!(addr));
                    let nr = i32_at(b, 24)?;
                    let arch = u32_at(b, 28)?;
                    let name = (arch == HOST_AUDIT_ARCH)
                        .then(|| syscalls::name(nr as u32))
                        .flatten();
                    let t = name.map_or_else(|| nr.to_string(), str::to_string);
                    put("si_syscall", t, json!(nr));
                    let a = flags::xval_string(u64::from(arch), AUDIT_ARCH, "AUDIT_ARCH_???");
                    put("si_arch", a.clone(), json!(a));
                }
                _ => {
                    if pid != 0 || uid != 0 {
                        source(&mut put);
                    }
                    if sival != 0 {
                        sigval(&mut put);
                    }
                }
            }
        }
    }
    text.push('}');
    Some((text, Value::Object(o)))
}

/// The smallest CPU set size the kernel accepts (strace's probe: sched_getaffinity with a NULL
/// mask fails with EINVAL below it, EFAULT from it on), 128 when probing fails.
fn cpuset_size() -> usize {
    static SIZE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *SIZE.get_or_init(|| {
        let mut size: usize = 128;
        while size != 0 && size <= 1 << 20 {
            // SAFETY: a NULL mask: the kernel checks the size first and never writes.
            let r = unsafe { libc::syscall(libc::SYS_sched_getaffinity, 0, size, 0usize) };
            let einval = r == -1 && std::io::Error::last_os_error().raw_os_error() == Some(22);
            if !einval {
                return size;
            }
            size <<= 1;
        }
        128
    })
}

/// A CPU affinity mask of `len` bytes: `[0 1]`, `[1 ...]` when the mask is longer than strace
/// reads (the CPU set size, rounded to words), `[]` for an empty one.
pub fn cpu_mask(b: &[u8], len: u64) -> Option<Decoded> {
    cpu_mask_with(b, len, cpuset_size())
}

fn cpu_mask_with(b: &[u8], len: u64, max: usize) -> Option<Decoded> {
    if len == 0 {
        return Some(("[]".into(), json!([])));
    }
    let read = usize::try_from(len).unwrap_or(usize::MAX).min(max);
    let data = b.get(..read)?;
    let size = read.div_ceil(8) * 8;
    let mut text = String::from("[");
    let mut cpus = Vec::new();
    for (k, byte) in data.iter().enumerate() {
        for bit in 0..8 {
            if byte & (1 << bit) != 0 {
                let cpu = k * 8 + bit;
                if !cpus.is_empty() {
                    text.push(' ');
                }
                let _ = write!(text, "{cpu}");
                cpus.push(cpu);
            }
        }
    }
    let more = (size as u64) < len;
    if more {
        text.push_str(if cpus.is_empty() { "..." } else { " ..." });
    }
    text.push(']');
    Some((text, json!(cpus)))
}

/// getgroups/setgroups: `[0, 1000]` of `n` ids, the first `max` then `...` (strace's array
/// abbreviation, off with -v). None when the list is longer than the capture.
pub fn ids(b: &[u8], n: u64, max: Option<usize>) -> Option<Decoded> {
    let n = usize::try_from(n).ok()?;
    let shown = match max {
        Some(m) if n > m => m,
        _ => n,
    };
    if b.len() < shown.checked_mul(4)? {
        return None;
    }
    let mut text = String::from("[");
    let mut items = Vec::new();
    for k in 0..n {
        if k > 0 {
            text.push_str(", ");
        }
        if max.is_some_and(|m| k >= m) {
            text.push_str("...");
            break;
        }
        let v = u32_at(b, 4 * k)?;
        text.push_str(&id_text(v));
        items.push(json!(v));
    }
    text.push(']');
    Some((text, Value::Array(items)))
}

/// getgroups/setgroups' list of `n` ids: the address (None) when `n` is more than the system
/// allows (`NGROUPS_MAX`), as strace prints it.
pub fn groups(b: &[u8], n: u64, max: Option<usize>) -> Option<Decoded> {
    // SAFETY: sysconf reads a constant of the C library.
    let limit = unsafe { libc::sysconf(libc::_SC_NGROUPS_MAX) };
    if n > u64::try_from(limit).unwrap_or(65536) {
        return None;
    }
    ids(b, n, max)
}

/// getresuid/getresgid: `[1000]`, -1 as `[-1]`.
pub fn id(b: &[u8]) -> Option<Decoded> {
    let v = u32_at(b, 0)?;
    Some((format!("[{}]", id_text(v)), json!(v)))
}

/// getcpu: `[1]`.
pub fn uint(b: &[u8]) -> Option<Decoded> {
    let v = u32_at(b, 0)?;
    Some((format!("[{v}]"), json!(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn longs(v: &[u64]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_ne_bytes()).collect()
    }

    #[test]
    fn rusage_abbreviated_and_full() {
        let mut v = vec![0u64, 860, 0, 860, 1016];
        v.extend([0, 0, 0, 61, 0, 0, 0, 0, 0, 0, 0, 74, 2]);
        let b = longs(&v);
        assert_eq!(
            rusage(&b, false).map(|d| d.0).as_deref(),
            Some("{ru_utime={tv_sec=0, tv_usec=860}, ru_stime={tv_sec=0, tv_usec=860}, ...}")
        );
        assert_eq!(
            rusage(&b, true).map(|d| d.0).as_deref(),
            Some(
                "{ru_utime={tv_sec=0, tv_usec=860}, ru_stime={tv_sec=0, tv_usec=860}, \
                 ru_maxrss=1016, ru_ixrss=0, ru_idrss=0, ru_isrss=0, ru_minflt=61, \
                 ru_majflt=0, ru_nswap=0, ru_inblock=0, ru_oublock=0, ru_msgsnd=0, \
                 ru_msgrcv=0, ru_nsignals=0, ru_nvcsw=74, ru_nivcsw=2}"
            )
        );
        let garbage = longs(&[u64::MAX; 18]);
        assert_eq!(
            rusage(&garbage, false).map(|d| d.0).as_deref(),
            Some(
                "{ru_utime={tv_sec=-1, tv_usec=18446744073709551615}, \
                 ru_stime={tv_sec=-1, tv_usec=18446744073709551615}, ...}"
            )
        );
        assert_eq!(rusage(&b[..100], true), None);
    }

    #[test]
    fn sysinfo_like_strace() {
        let mut b = longs(&[
            10162,
            399200,
            306720,
            184448,
            25275990016,
            16199458816,
            9580544,
            20979712,
            0,
            0,
        ]);
        b.extend_from_slice(&124u16.to_ne_bytes());
        b.extend_from_slice(&[0; 6]);
        b.extend(longs(&[0, 0]));
        b.extend_from_slice(&1u32.to_ne_bytes());
        b.extend_from_slice(&[0; 4]);
        assert_eq!(
            sysinfo(&b).map(|d| d.0).as_deref(),
            Some(
                "{uptime=10162, loads=[399200, 306720, 184448], totalram=25275990016, \
                 freeram=16199458816, sharedram=9580544, bufferram=20979712, totalswap=0, \
                 freeswap=0, procs=124, totalhigh=0, freehigh=0, mem_unit=1}"
            )
        );
        assert_eq!(sysinfo(&b[..64]), None);
    }

    fn si(signo: i32, code: i32, words: &[(usize, &[u8])]) -> Vec<u8> {
        let mut b = vec![0u8; SIGINFO_SIZE];
        b[..4].copy_from_slice(&signo.to_ne_bytes());
        b[8..12].copy_from_slice(&code.to_ne_bytes());
        for (at, w) in words {
            b[*at..at + w.len()].copy_from_slice(w);
        }
        b
    }

    #[test]
    fn siginfo_like_strace() {
        assert_eq!(siginfo(&[0; 128]).map(|d| d.0).as_deref(), Some("{}"));
        let b = si(
            libc::SIGCHLD,
            1,
            &[(16, &18080i32.to_ne_bytes()), (24, &42i32.to_ne_bytes())],
        );
        assert_eq!(
            siginfo(&b).map(|d| d.0).as_deref(),
            Some(
                "{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=18080, si_uid=0, \
                 si_status=42, si_utime=0, si_stime=0}"
            )
        );
        let b = si(
            libc::SIGCHLD,
            2,
            &[(16, &7i32.to_ne_bytes()), (24, &10i32.to_ne_bytes())],
        );
        assert_eq!(
            siginfo(&b).map(|d| d.0).as_deref(),
            Some(
                "{si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=7, si_uid=0, \
                 si_status=SIGUSR1, si_utime=0, si_stime=0}"
            )
        );
        let b = si(
            libc::SIGUSR1,
            -6,
            &[(16, &5i32.to_ne_bytes()), (20, &1000u32.to_ne_bytes())],
        );
        assert_eq!(
            siginfo(&b).map(|d| d.0).as_deref(),
            Some("{si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=5, si_uid=1000}")
        );
        let b = si(libc::SIGSEGV, 1, &[(16, &0x1000u64.to_ne_bytes())]);
        assert_eq!(
            siginfo(&b).map(|d| d.0).as_deref(),
            Some("{si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x1000}")
        );
        let b = si(libc::SIGUSR2, 1234, &[]);
        assert_eq!(
            siginfo(&b).map(|d| d.0).as_deref(),
            Some("{si_signo=SIGUSR2, si_code=0x4d2}")
        );
        assert_eq!(siginfo(&b[..64]), None);
    }

    #[test]
    fn masks_and_ids() {
        assert_eq!(
            cpu_mask_with(&[3, 0, 0, 0, 0, 0, 0, 0], 8, 128)
                .map(|d| d.0)
                .as_deref(),
            Some("[0 1]")
        );
        assert_eq!(
            cpu_mask_with(&[], 0, 128).map(|d| d.0).as_deref(),
            Some("[]")
        );
        let mut big = vec![0u8; 256];
        big[0] = 2;
        assert_eq!(
            cpu_mask_with(&big, 256, 128).map(|d| d.0).as_deref(),
            Some("[1 ...]")
        );
        assert_eq!(cpu_mask_with(&[1], 8, 128), None, "short capture");
        let g: Vec<u8> = [0u32, 1000, u32::MAX]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect();
        assert_eq!(
            ids(&g, 3, Some(32)).map(|d| d.0).as_deref(),
            Some("[0, 1000, -1]")
        );
        assert_eq!(
            ids(&g, 3, Some(2)).map(|d| d.0).as_deref(),
            Some("[0, 1000, ...]")
        );
        assert_eq!(ids(&[], 0, Some(32)).map(|d| d.0).as_deref(), Some("[]"));
        assert_eq!(ids(&g, 4, None), None, "short capture");
        assert_eq!(id(&0u32.to_ne_bytes()).map(|d| d.0).as_deref(), Some("[0]"));
        assert_eq!(
            uint(&1u32.to_ne_bytes()).map(|d| d.0).as_deref(),
            Some("[1]")
        );
        assert_eq!(uint(&[1, 0]), None);
    }
}
