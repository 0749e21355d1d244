//! Bytes from the ring buffer → typed events. Lengths are checked, reads are unaligned copies,
//! nothing from the kernel is trusted to be in range.
pub mod args;
pub mod capture_spec;
pub mod ctype;
pub mod errno;
pub mod escape;
pub mod event;
pub mod fcntl;
pub mod fdpath;
pub mod flags;
pub mod jsonl;
pub mod pairing;
pub mod resource;
pub mod select;
pub mod signal;
pub mod signal_event;
pub mod sockaddr;
pub mod sockopt;
pub mod stack;
pub mod structs;
pub mod syscalls;
pub mod time;
pub mod timefmt;
pub mod wait;

pub use crate::model::event::{Capture, Enter, EnterEvent, Record, SyscallEvent};
pub use event::event;

use tracer_common::{
    capture::{CaptureHeader, EnterRecord, capture_size},
    record::{
        FLAG_ENTER_MISSING, FLAG_EXIT_ONLY, FLAG_NO_RETURN, FLAG_SECCOMP_SIGSYS, FLAG_THREAD_KNOWN,
        KIND_ENTER, KIND_SIGNAL, KIND_SYSCALL, RecordHeader, SignalRecord, SyscallRecord,
    },
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("record of {got} bytes is shorter than its {need}-byte header or body")]
    Short { need: usize, got: usize },
    #[error("record says it is {said} bytes but the ring buffer gave {got}")]
    LengthMismatch { said: u32, got: usize },
    #[error("unknown record kind {0}")]
    UnknownKind(u16),
}

/// The header of a ring buffer item, checked against the item's length.
fn header(buf: &[u8]) -> Result<RecordHeader, DecodeError> {
    let header: RecordHeader = read(buf)?;
    if header.len as usize != buf.len() {
        return Err(DecodeError::LengthMismatch {
            said: header.len,
            got: buf.len(),
        });
    }
    Ok(header)
}

/// Decodes one ring buffer item.
pub fn decode_record(buf: &[u8]) -> Result<Record, DecodeError> {
    let header = header(buf)?;
    match header.kind {
        KIND_SYSCALL => decode(buf).map(Record::Syscall),
        KIND_ENTER => {
            let r: EnterRecord = read(buf)?;
            Ok(Record::Enter(EnterEvent {
                tid: header.tid,
                nr: r.nr,
                captures: captures(&buf[size_of::<EnterRecord>()..])?,
            }))
        }
        KIND_SIGNAL => signal_event::decode(buf).map(Record::Signal),
        kind => Err(DecodeError::UnknownKind(kind)),
    }
}

/// Whose record a ring-buffer record is, read without decoding it (the daemon splits batches
/// by container before decoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// The calling task's cgroup v2 id.
    pub cgroup_id: u64,
    pub tgid: u32,
    pub tid: u32,
    /// A syscall or signal record without the task's ids in its PID namespace (the daemon's
    /// kernel side does not know them: its user side reads /proc).
    pub ns_missing: bool,
}

// Syscall and signal records keep the ids in the namespace at the same offsets.
const NS_TGID_AT: usize = std::mem::offset_of!(SyscallRecord, ns_tgid);
const NS_TID_AT: usize = std::mem::offset_of!(SyscallRecord, ns_tid);
const _: () = assert!(NS_TGID_AT == std::mem::offset_of!(SignalRecord, ns_tgid));
const _: () = assert!(NS_TID_AT == std::mem::offset_of!(SignalRecord, ns_tid));

/// `None` for a record too short for its kind, or of an unknown kind.
pub fn owner(buf: &[u8]) -> Option<Owner> {
    let header: RecordHeader = read(buf).ok()?;
    let (cgroup_id, ns_tid) = match header.kind {
        KIND_SYSCALL => {
            let r = read::<SyscallRecord>(buf).ok()?;
            (r.cgroup_id, Some(r.ns_tid))
        }
        KIND_ENTER => (read::<EnterRecord>(buf).ok()?.cgroup_id, None),
        KIND_SIGNAL => {
            let r = read::<SignalRecord>(buf).ok()?;
            (r.cgroup_id, Some(r.ns_tid))
        }
        _ => return None,
    };
    Some(Owner {
        cgroup_id,
        tgid: header.tgid,
        tid: header.tid,
        ns_missing: ns_tid == Some(0),
    })
}

/// Writes the task's ids in its PID namespace into a syscall or signal record that lacks them
/// (`Owner::ns_missing`), as decoding and enrichment would have shown them.
pub fn set_ns_ids(rec: &mut [u8], tgid: u32, tid: u32) {
    if rec.len() >= NS_TID_AT + 4 {
        rec[NS_TGID_AT..NS_TGID_AT + 4].copy_from_slice(&tgid.to_ne_bytes());
        rec[NS_TID_AT..NS_TID_AT + 4].copy_from_slice(&tid.to_ne_bytes());
    }
}

/// The captures that follow a fixed record.
fn captures(mut rest: &[u8]) -> Result<Vec<Capture>, DecodeError> {
    let mut out = Vec::new();
    while !rest.is_empty() {
        let h: CaptureHeader = read(rest)?;
        let len = h.len as usize;
        let end = 8 + len;
        if rest.len() < end {
            return Err(DecodeError::Short {
                need: end,
                got: rest.len(),
            });
        }
        out.push(Capture {
            arg: h.arg,
            kind: h.kind,
            flags: h.flags,
            index: h.index,
            data: rest[8..end].to_vec(),
        });
        let step = (capture_size(h.len) as usize).min(rest.len());
        rest = &rest[step..];
    }
    Ok(out)
}

/// Decodes a syscall record (with its exit-side captures).
pub fn decode(buf: &[u8]) -> Result<SyscallEvent, DecodeError> {
    let header = header(buf)?;
    if header.kind != KIND_SYSCALL {
        return Err(DecodeError::UnknownKind(header.kind));
    }
    let r: SyscallRecord = read(buf)?;
    let mut captures = captures(&buf[size_of::<SyscallRecord>()..])?;
    let stack = stack::take(&mut captures);
    let flags = header.flags;
    let enter = if flags & FLAG_ENTER_MISSING == 0 {
        Enter::Seen
    } else if flags & FLAG_THREAD_KNOWN != 0 {
        Enter::Skipped
    } else {
        Enter::Missing
    };
    let sigsys = enter == Enter::Skipped && flags & FLAG_SECCOMP_SIGSYS != 0;
    let no_return = sigsys || flags & FLAG_NO_RETURN != 0;
    Ok(SyscallEvent {
        ktime_ns: header.ktime_ns,
        // An exit-only record (`--exit-only`) is a whole call with no enter time.
        enter_ns: (enter == Enter::Seen && flags & FLAG_EXIT_ONLY == 0).then_some(r.enter_ns),
        nr: r.nr,
        args: r.args,
        ret: (!no_return).then_some(r.ret),
        tgid: header.tgid,
        tid: header.tid,
        ns_tgid: (r.ns_tgid != 0).then_some(r.ns_tgid),
        ns_tid: (r.ns_tid != 0).then_some(r.ns_tid),
        cgroup_id: r.cgroup_id,
        comm: r.comm,
        enter,
        sigsys,
        captures,
        stack,
    })
}

/// A call still in progress when tracing stopped, from the kernel's per-thread pending entry;
/// the process's ids and name are read from /proc (it is alive: it is inside the call).
pub fn unfinished(tid: u32, p: &tracer_common::config::Pending) -> SyscallEvent {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_default()
            .to_string()
    };
    let tgid = field("Tgid:").parse().unwrap_or(tid);
    let mut comm = [0u8; 16];
    let name = field("Name:");
    let n = name.len().min(15);
    comm[..n].copy_from_slice(&name.as_bytes()[..n]);
    // The enrich stage reads the cgroup (it knows the runtime's cgroup layout).
    let cgroup_id = 0;
    SyscallEvent {
        ktime_ns: p.enter_ns,
        enter_ns: None,
        nr: p.nr,
        args: p.args,
        ret: None,
        tgid,
        tid,
        ns_tgid: (p.ns_tgid != 0).then_some(p.ns_tgid),
        ns_tid: (p.ns_tid != 0).then_some(p.ns_tid),
        cgroup_id,
        comm,
        enter: Enter::Unfinished,
        sigsys: false,
        captures: Vec::new(),
        stack: None,
    }
}

/// Unaligned copy of a plain-integer `repr(C)` type from the front of `buf`.
fn read<T: aya::Pod>(buf: &[u8]) -> Result<T, DecodeError> {
    let need = size_of::<T>();
    if buf.len() < need {
        return Err(DecodeError::Short {
            need,
            got: buf.len(),
        });
    }
    // SAFETY: length checked above; `T: Pod` is valid for every bit pattern.
    Ok(unsafe { std::ptr::read_unaligned(buf.as_ptr().cast::<T>()) })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn record(flags: u16, nr: u32, ret: i64) -> SyscallRecord {
        SyscallRecord {
            header: RecordHeader {
                kind: KIND_SYSCALL,
                flags,
                len: size_of::<SyscallRecord>() as u32,
                ktime_ns: 2_000_500,
                tgid: 100,
                tid: 101,
            },
            nr,
            ns_tgid: 1,
            ns_tid: 7,
            _pad: 0,
            ret,
            enter_ns: 2_000_000,
            cgroup_id: 4242,
            args: [1, 2, 3, 4, 5, 6],
            comm: *b"nginx\0\0\0\0\0\0\0\0\0\0\0",
        }
    }

    pub fn bytes(r: &SyscallRecord) -> Vec<u8> {
        // SAFETY: SyscallRecord is plain integers without implicit padding.
        unsafe {
            std::slice::from_raw_parts(
                (r as *const SyscallRecord).cast::<u8>(),
                size_of::<SyscallRecord>(),
            )
        }
        .to_vec()
    }

    #[test]
    fn decodes_a_paired_syscall() {
        let ev = decode(&bytes(&record(0, 288, 4))).expect("decodes");
        assert_eq!(ev.nr, 288);
        assert_eq!(ev.ret, Some(4));
        assert_eq!(ev.enter, Enter::Seen);
        assert_eq!(ev.duration_ns(), Some(500));
        assert_eq!(
            (ev.tgid, ev.tid, ev.ns_tgid, ev.ns_tid),
            (100, 101, Some(1), Some(7))
        );
        assert_eq!(ev.comm_bytes(), b"nginx");
        assert_eq!(ev.args, [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn decodes_flags() {
        let ev = decode(&bytes(&record(FLAG_NO_RETURN, 231, 0))).expect("decodes");
        assert_eq!((ev.ret, ev.duration_ns()), (None, None));
        let ev = decode(&bytes(&record(FLAG_ENTER_MISSING, 0, 5))).expect("decodes");
        assert_eq!(
            (ev.enter, ev.enter_ns, ev.duration_ns()),
            (Enter::Missing, None, None)
        );
        // `--exit-only`: a whole call, returned, without an enter time.
        let ev = decode(&bytes(&record(FLAG_EXIT_ONLY, 0, 5))).expect("decodes");
        assert_eq!(
            (
                ev.enter,
                ev.enter_ns,
                ev.ret,
                ev.duration_ns(),
                ev.seccomp()
            ),
            (Enter::Seen, None, Some(5), None, None)
        );
        let ev = decode(&bytes(&record(FLAG_EXIT_ONLY | FLAG_NO_RETURN, 231, 0))).expect("decodes");
        assert_eq!((ev.enter, ev.ret, ev.enter_ns), (Enter::Seen, None, None));
        let ev = decode(&bytes(&record(
            FLAG_ENTER_MISSING | FLAG_THREAD_KNOWN,
            90,
            -1,
        )))
        .expect("decodes");
        assert_eq!(ev.enter, Enter::Skipped);
        assert_eq!(ev.seccomp(), Some("denied"));
        // SIGSYS: the registers were rolled back, so `ret` holds the number; it never ran.
        let ev = decode(&bytes(&record(
            FLAG_ENTER_MISSING | FLAG_THREAD_KNOWN | FLAG_SECCOMP_SIGSYS,
            268,
            268,
        )))
        .expect("decodes");
        assert_eq!((ev.enter, ev.ret, ev.sigsys), (Enter::Skipped, None, true));
        assert_eq!(ev.seccomp(), Some("sigsys"));
    }

    /// `rec` with captures `(arg, kind, flags, data)` appended, 8-byte aligned, and its length set.
    pub fn with_captures(mut rec: Vec<u8>, caps: &[(u8, u8, u8, &[u8])]) -> Vec<u8> {
        for &(arg, kind, flags, data) in caps {
            rec.extend_from_slice(&[arg, kind, flags, 0]);
            rec.extend_from_slice(&(data.len() as u32).to_ne_bytes());
            rec.extend_from_slice(data);
            rec.resize(rec.len().next_multiple_of(8), 0);
        }
        let len = rec.len() as u32;
        rec[4..8].copy_from_slice(&len.to_ne_bytes());
        rec
    }

    #[test]
    fn decodes_captures_after_the_record() {
        let b = with_captures(
            bytes(&record(0, 0, 5)),
            &[(1, 3, 0, b"hello"), (2, 3, 1, b"")],
        );
        let ev = decode(&b).expect("decodes");
        assert_eq!(ev.captures.len(), 2);
        assert_eq!(ev.captures[0].data, b"hello");
        assert_eq!((ev.captures[1].arg, ev.captures[1].truncated()), (2, true));
        // A capture claiming more bytes than the record holds is an error, not a panic.
        let mut bad = with_captures(bytes(&record(0, 0, 5)), &[(1, 3, 0, b"hello")]);
        bad[128 + 4] = 200;
        assert!(matches!(decode(&bad), Err(DecodeError::Short { .. })));
    }

    #[test]
    fn rejects_bad_lengths_and_kinds() {
        let good = bytes(&record(0, 1, 0));
        assert_eq!(
            decode(&good[..10]),
            Err(DecodeError::Short { need: 24, got: 10 })
        );
        assert!(matches!(
            decode(&good[..64]),
            Err(DecodeError::LengthMismatch { said: 128, got: 64 })
        ));
        let mut r = record(0, 1, 0);
        r.header.kind = 9;
        assert_eq!(decode(&bytes(&r)), Err(DecodeError::UnknownKind(9)));
        let mut r = record(0, 1, 0);
        r.header.len = 24;
        let b = bytes(&r);
        assert_eq!(
            decode(&b[..24]),
            Err(DecodeError::Short { need: 128, got: 24 })
        );
        // Unaligned input decodes the same.
        let mut shifted = vec![0u8];
        shifted.extend_from_slice(&good);
        assert_eq!(decode(&shifted[1..]), decode(&good));
    }
}
