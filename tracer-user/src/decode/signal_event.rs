//! A `KIND_SIGNAL` record → [`SignalEvent`]: the siginfo through strace's decoder
//! ([`resource::siginfo`]), the action as [`Handler`].
use tracer_common::record::{
    FLAG_SIGNAL_CORE, FLAG_SIGNAL_KILLED, FLAG_SIGNAL_NO_ACTION, FLAG_SIGNAL_NO_INFO,
    KERNEL_SIGINFO_LEN, SignalRecord,
};

use super::{DecodeError, read, resource};
use crate::model::{SignalEvent, SignalKind, signal::Handler};

/// `SIG_DFL` and `SIG_IGN` (include/uapi/asm-generic/signal-defs.h).
const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;

/// The kernel's siginfo padded to user space's `siginfo_t` (what the decoder reads).
fn user_siginfo(words: &[u64; KERNEL_SIGINFO_LEN / 8]) -> [u8; resource::SIGINFO_SIZE] {
    let mut b = [0u8; resource::SIGINFO_SIZE];
    for (i, w) in words.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&w.to_ne_bytes());
    }
    b
}

/// Decodes a signal record whose header was checked (`buf` is the whole item).
pub fn decode(buf: &[u8]) -> Result<SignalEvent, DecodeError> {
    let r: SignalRecord = read(buf)?;
    let flags = r.header.flags;
    let kind = if flags & FLAG_SIGNAL_KILLED != 0 {
        SignalKind::Killed {
            core: flags & FLAG_SIGNAL_CORE != 0,
        }
    } else {
        let handler = (flags & FLAG_SIGNAL_NO_ACTION == 0).then_some(match r.handler {
            SIG_DFL => Handler::Default,
            SIG_IGN => Handler::Ignore,
            at => Handler::At(at),
        });
        let info = if flags & FLAG_SIGNAL_NO_INFO == 0 {
            resource::siginfo(&user_siginfo(&r.info))
        } else {
            None
        };
        SignalKind::Delivered {
            handler,
            sa_flags: r.sa_flags,
            info,
        }
    };
    Ok(SignalEvent {
        ktime_ns: r.header.ktime_ns,
        sig: r.sig,
        tgid: r.header.tgid,
        tid: r.header.tid,
        ns_tgid: (r.ns_tgid != 0).then_some(r.ns_tgid),
        ns_tid: (r.ns_tid != 0).then_some(r.ns_tid),
        cgroup_id: r.cgroup_id,
        comm: r.comm,
        kind,
        container: None,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use tracer_common::record::{KIND_SIGNAL, RecordHeader};

    use super::*;
    use crate::decode::{Record, decode_record};

    /// A delivery of `sig` whose siginfo is `(signo, code, pid, uid)` (the `_kill` layout).
    pub fn delivery(sig: u32, code: i32, pid: i32, handler: u64) -> SignalRecord {
        let mut info = [0u64; KERNEL_SIGINFO_LEN / 8];
        info[0] = u64::from(sig);
        info[1] = code as u32 as u64;
        info[2] = pid as u32 as u64;
        SignalRecord {
            header: RecordHeader {
                kind: KIND_SIGNAL,
                flags: 0,
                len: size_of::<SignalRecord>() as u32,
                ktime_ns: 5_000_000,
                tgid: 300,
                tid: 301,
            },
            sig,
            ns_tgid: 7,
            ns_tid: 8,
            _pad: 0,
            cgroup_id: 4242,
            handler,
            sa_flags: 0x0400_0000,
            comm: *b"sigs\0\0\0\0\0\0\0\0\0\0\0\0",
            info,
        }
    }

    pub fn killed(sig: u32, core: bool) -> SignalRecord {
        let mut r = delivery(17, 2, 7, 0);
        r.sig = sig;
        r.header.flags =
            FLAG_SIGNAL_KILLED | FLAG_SIGNAL_NO_ACTION | if core { FLAG_SIGNAL_CORE } else { 0 };
        r
    }

    pub fn bytes(r: &SignalRecord) -> Vec<u8> {
        // SAFETY: SignalRecord is plain integers without implicit padding.
        unsafe {
            std::slice::from_raw_parts(
                (r as *const SignalRecord).cast::<u8>(),
                size_of::<SignalRecord>(),
            )
        }
        .to_vec()
    }

    fn signal(r: &SignalRecord) -> SignalEvent {
        match decode_record(&bytes(r)) {
            Ok(Record::Signal(s)) => s,
            other => panic!("not a signal: {other:?}"),
        }
    }

    #[test]
    fn decodes_a_delivery() {
        let s = signal(&delivery(10, -6, 42, 0x40_1000));
        assert_eq!(s.sig, 10);
        assert_eq!(
            (s.tgid, s.tid, s.ns_tgid, s.ns_tid, s.cgroup_id),
            (300, 301, Some(7), Some(8), 4242)
        );
        assert_eq!(s.comm_bytes(), b"sigs");
        let SignalKind::Delivered {
            handler,
            sa_flags,
            info,
        } = s.kind
        else {
            panic!("{:?}", s.kind)
        };
        assert_eq!(handler, Some(Handler::At(0x40_1000)));
        assert_eq!(sa_flags, 0x0400_0000);
        let (text, json) = info.expect("siginfo");
        assert_eq!(
            text,
            "{si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=42, si_uid=0}"
        );
        assert_eq!(json["si_pid"], 42);
        assert_eq!(json["si_code"], "SI_TKILL");
    }

    #[test]
    fn decodes_handlers_and_missing_parts() {
        let handler = |h: u64, flags: u16| {
            let mut r = delivery(15, 0, 1, h);
            r.header.flags = flags;
            match signal(&r).kind {
                SignalKind::Delivered { handler, info, .. } => (handler, info.is_some()),
                k => panic!("{k:?}"),
            }
        };
        assert_eq!(handler(0, 0), (Some(Handler::Default), true));
        assert_eq!(handler(1, 0), (Some(Handler::Ignore), true));
        assert_eq!(handler(0, FLAG_SIGNAL_NO_ACTION), (None, true));
        assert_eq!(
            handler(0, FLAG_SIGNAL_NO_INFO),
            (Some(Handler::Default), false)
        );
    }

    #[test]
    fn decodes_a_death() {
        assert_eq!(
            signal(&killed(9, false)).kind,
            SignalKind::Killed { core: false }
        );
        let s = signal(&killed(11, true));
        assert_eq!((s.sig, s.kind), (11, SignalKind::Killed { core: true }));
    }

    #[test]
    fn rejects_short_records() {
        let b = bytes(&delivery(10, 0, 1, 0));
        assert!(matches!(
            decode_record(&b[..64]),
            Err(DecodeError::LengthMismatch { said: 128, got: 64 })
        ));
        let mut r = delivery(10, 0, 1, 0);
        r.header.len = 40;
        assert_eq!(
            decode_record(&bytes(&r)[..40]),
            Err(DecodeError::Short { need: 128, got: 40 })
        );
    }
}
