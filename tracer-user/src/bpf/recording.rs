//! The recording file (`tracer record`, read back by `tracer show`): the kernel's records as the
//! ring buffer reader batched them, plus what decoding them later needs. docs/capture-format.md
//! is the specification; this is its one reader and writer.
//!
//! ```text
//! file  = magic (8 bytes) version (u32 LE) frame*
//! frame = kind (u8) reserved (3 zero bytes) length (u32 LE) crc32 (u32 LE, of the payload)
//!         payload (length bytes)
//! ```
//!
//! A frame is written whole or not at all on a clean stop; a file cut anywhere reads back every
//! whole frame before the cut, then an error naming the offset of the first one that is not.
use std::io::{self, Read, Write};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tracer_common::config::Pending;

use crate::model::{Container, Lost};

/// `\x89TRCREC\n`: a high byte (no 7-bit channel passes it), a name, a newline (a text-mode
/// transfer that rewrites it is noticed).
pub const MAGIC: [u8; 8] = *b"\x89TRCREC\n";
/// This reader's and writer's format version.
pub const VERSION: u32 = 1;
/// Magic and version.
pub const PRELUDE_LEN: usize = 12;
/// Kind, reserved, length, checksum.
pub const FRAME_HEADER_LEN: usize = 12;
/// No frame this writer makes comes near this (a batch is at most 256 KiB plus one record); a
/// longer length is not a frame's.
pub const MAX_FRAME: u32 = 16 << 20;

const KIND_HEADER: u8 = 1;
const KIND_BATCH: u8 = 2;
const KIND_LOST: u8 = 3;
const KIND_IN_FLIGHT: u8 = 4;
const KIND_TRAILER: u8 = 5;

const LOST_LEN: usize = 24;
const PENDING_LEN: usize = size_of::<Pending>();
/// tid, tgid, cgroup id, comm, then the kernel's pending entry.
const IN_FLIGHT_LEN: usize = 4 + 4 + 8 + 16 + PENDING_LEN;

/// What decoding needs to know, written first (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The version of tracer that recorded.
    pub tracer: String,
    /// `uname -r` of the recording host.
    pub kernel: String,
    /// Identity of the kernel record layout and of the capture rules the kernel was loaded
    /// with: the reader must decode with the same ones.
    pub layout: String,
    /// CLOCK_REALTIME - CLOCK_MONOTONIC at start, ns.
    pub clock_offset_ns: i64,
    /// CLOCK_MONOTONIC at start, ns.
    pub started_ktime_ns: u64,
    /// The target as the "tracing …" line named it.
    pub target: String,
    /// The container followed, when the target is one.
    pub container: Option<Container>,
    /// The syscall set asked for (empty: all); the kernel also reported the calls the fd
    /// tables follow.
    pub syscalls: Vec<u32>,
    /// `-s` at record time: the bytes of each string the kernel kept.
    pub string_size: u32,
}

/// What the kernel counted over the run, written last (JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trailer {
    pub ended_ktime_ns: u64,
    pub records: u64,
    pub lost: u64,
    pub pending_full: u64,
    pub regs_unreadable: u64,
    pub tasks_full: u64,
    pub stack_failed: u64,
}

/// A call still in progress when recording stopped, with what /proc said of its thread then.
#[derive(Debug, Clone, Copy)]
pub struct InFlight {
    pub tid: u32,
    pub tgid: u32,
    pub cgroup_id: u64,
    pub comm: [u8; 16],
    pub pending: Pending,
}

#[derive(Debug)]
pub enum Frame {
    /// Boxed: it is read once and is far larger than the other frames.
    Header(Box<Header>),
    /// Records, each preceded by its length as a u32 (bpf::reader::Message::Batch).
    Batch(Bytes),
    Lost(Lost),
    InFlight(Vec<InFlight>),
    Trailer(Trailer),
}

/// Why a recording cannot be read on from `offset`.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("byte {offset}: {why}")]
    Bad { offset: u64, why: String },
    #[error("byte {offset}: {source}")]
    Io {
        offset: u64,
        #[source]
        source: io::Error,
    },
}

impl ReadError {
    pub fn offset(&self) -> u64 {
        match self {
            ReadError::Bad { offset, .. } | ReadError::Io { offset, .. } => *offset,
        }
    }
}

fn bad(offset: u64, why: impl Into<String>) -> ReadError {
    ReadError::Bad {
        offset,
        why: why.into(),
    }
}

/// Writes frames; the caller buffers (a `BufWriter`) and flushes.
pub struct Writer<W: Write> {
    out: W,
    written: u64,
}

impl<W: Write> Writer<W> {
    /// Writes the prelude and the header frame.
    pub fn new(mut out: W, header: &Header) -> io::Result<Writer<W>> {
        out.write_all(&MAGIC)?;
        out.write_all(&VERSION.to_le_bytes())?;
        let mut w = Writer {
            out,
            written: PRELUDE_LEN as u64,
        };
        w.json(KIND_HEADER, header)?;
        Ok(w)
    }

    fn frame(&mut self, kind: u8, payload: &[u8]) -> io::Result<()> {
        let len = u32::try_from(payload.len())
            .ok()
            .filter(|l| *l <= MAX_FRAME)
            .ok_or_else(|| io::Error::other("recording frame too long"))?;
        let mut head = [0u8; FRAME_HEADER_LEN];
        head[0] = kind;
        head[4..8].copy_from_slice(&len.to_le_bytes());
        head[8..12].copy_from_slice(&crc32fast::hash(payload).to_le_bytes());
        self.out.write_all(&head)?;
        self.out.write_all(payload)?;
        self.written += (FRAME_HEADER_LEN + payload.len()) as u64;
        Ok(())
    }

    fn json<T: Serialize>(&mut self, kind: u8, value: &T) -> io::Result<()> {
        let payload = serde_json::to_vec(value).map_err(io::Error::other)?;
        self.frame(kind, &payload)
    }

    /// A batch as the ring buffer reader made it: copied, not decoded.
    pub fn batch(&mut self, batch: &[u8]) -> io::Result<()> {
        self.frame(KIND_BATCH, batch)
    }

    pub fn lost(&mut self, lost: &Lost) -> io::Result<()> {
        let mut p = [0u8; LOST_LEN];
        p[..8].copy_from_slice(&lost.count.to_le_bytes());
        p[8..16].copy_from_slice(&lost.total.to_le_bytes());
        p[16..].copy_from_slice(&lost.ktime_ns.to_le_bytes());
        self.frame(KIND_LOST, &p)
    }

    pub fn in_flight(&mut self, calls: &[InFlight]) -> io::Result<()> {
        let mut p = Vec::with_capacity(calls.len() * IN_FLIGHT_LEN);
        for c in calls {
            p.extend_from_slice(&c.tid.to_le_bytes());
            p.extend_from_slice(&c.tgid.to_le_bytes());
            p.extend_from_slice(&c.cgroup_id.to_le_bytes());
            p.extend_from_slice(&c.comm);
            p.extend_from_slice(pending_bytes(&c.pending));
        }
        self.frame(KIND_IN_FLIGHT, &p)
    }

    /// The last frame; flushes.
    pub fn trailer(&mut self, trailer: &Trailer) -> io::Result<()> {
        self.json(KIND_TRAILER, trailer)?;
        self.out.flush()
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Bytes handed to the output so far.
    pub fn written(&self) -> u64 {
        self.written
    }
}

impl Writer<std::io::BufWriter<std::fs::File>> {
    /// After a failed write: drops what is still buffered (a `BufWriter` dropped would write
    /// it at the file's offset, past the cut, leaving a hole of zeros) and cuts the file to
    /// `len`, the end of its last whole frame.
    pub fn cut_back(self, len: u64) -> io::Result<()> {
        let (file, _unwritten) = self.out.into_parts();
        file.set_len(len)
    }
}

fn pending_bytes(p: &Pending) -> &[u8] {
    // SAFETY: Pending is repr(C), plain integers with no padding (its size is asserted beside
    // it in tracer-common); reading its bytes is always defined.
    unsafe { std::slice::from_raw_parts((p as *const Pending).cast::<u8>(), PENDING_LEN) }
}

fn pending_from(bytes: &[u8]) -> Option<Pending> {
    let bytes: &[u8; PENDING_LEN] = bytes.try_into().ok()?;
    // SAFETY: any bit pattern is a valid Pending (plain integers); the read is unaligned.
    Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<Pending>()) })
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Reads frames in order; stops at the first one that is not whole and right.
pub struct Reader<R: Read> {
    input: R,
    offset: u64,
    trailer_seen: bool,
}

/// Reads as much of `buf` as there is; returns how much that was.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

impl<R: Read> Reader<R> {
    /// Checks the prelude and reads the header frame.
    pub fn open(mut input: R) -> Result<(Reader<R>, Header), ReadError> {
        let mut prelude = [0u8; PRELUDE_LEN];
        let got = read_full(&mut input, &mut prelude)
            .map_err(|source| ReadError::Io { offset: 0, source })?;
        if prelude[..got.min(8)] != MAGIC[..got.min(8)] || got == 0 {
            return Err(bad(0, "not a recording of tracer's (no magic number)"));
        }
        if got < PRELUDE_LEN {
            return Err(bad(
                got as u64,
                "the file ends inside the prelude (cut short)",
            ));
        }
        let version = u32_at(&prelude, 8);
        if version != VERSION {
            return Err(bad(
                8,
                format!(
                    "format version {version}, this tracer reads version {VERSION}; show it with the tracer that recorded it"
                ),
            ));
        }
        let mut r = Reader {
            input,
            offset: PRELUDE_LEN as u64,
            trailer_seen: false,
        };
        let at = r.offset;
        match r.next_frame()? {
            Some(Frame::Header(h)) => Ok((r, *h)),
            Some(_) => Err(bad(at, "the first frame is not the header")),
            None => Err(bad(at, "the file ends before the header frame (cut short)")),
        }
    }

    /// The next frame; `None` after the trailer. A file that ends before its trailer is an
    /// error (the recording was cut: killed, or its disk full).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, ReadError> {
        let at = self.offset;
        let io = |source| ReadError::Io { offset: at, source };
        let mut head = [0u8; FRAME_HEADER_LEN];
        let got = read_full(&mut self.input, &mut head).map_err(io)?;
        if got == 0 {
            if self.trailer_seen {
                return Ok(None);
            }
            return Err(bad(
                at,
                "the file ends without its trailer (cut short: the recording did not stop cleanly, or its disk was full)",
            ));
        }
        if self.trailer_seen {
            return Err(bad(at, "bytes after the trailer frame"));
        }
        if got < FRAME_HEADER_LEN {
            return Err(bad(
                at,
                format!(
                    "the file ends inside a frame header ({got} of {FRAME_HEADER_LEN} bytes; cut short)"
                ),
            ));
        }
        let kind = head[0];
        if !(KIND_HEADER..=KIND_TRAILER).contains(&kind) || head[1..4] != [0, 0, 0] {
            return Err(bad(
                at,
                format!("not a frame (kind {kind}, reserved {:?})", &head[1..4]),
            ));
        }
        let len = u32_at(&head, 4);
        if len > MAX_FRAME {
            return Err(bad(at, format!("not a frame (length {len})")));
        }
        let mut payload = vec![0u8; len as usize];
        let got = read_full(&mut self.input, &mut payload).map_err(io)?;
        if got < payload.len() {
            return Err(bad(
                at,
                format!(
                    "the file ends inside a frame ({got} of {len} payload bytes; cut short, or its disk was full)"
                ),
            ));
        }
        if crc32fast::hash(&payload) != u32_at(&head, 8) {
            return Err(bad(at, "a frame whose checksum does not match (corrupt)"));
        }
        let frame = parse(kind, payload).map_err(|why| bad(at, why))?;
        if matches!(frame, Frame::Header(_)) && at != PRELUDE_LEN as u64 {
            return Err(bad(at, "a second header frame"));
        }
        self.trailer_seen = matches!(frame, Frame::Trailer(_));
        self.offset += (FRAME_HEADER_LEN + len as usize) as u64;
        Ok(Some(frame))
    }

    /// The offset of the next frame.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

fn parse(kind: u8, payload: Vec<u8>) -> Result<Frame, String> {
    Ok(match kind {
        KIND_HEADER => Frame::Header(
            serde_json::from_slice(&payload)
                .map_err(|e| format!("a header frame that is not: {e}"))?,
        ),
        KIND_TRAILER => Frame::Trailer(
            serde_json::from_slice(&payload)
                .map_err(|e| format!("a trailer frame that is not: {e}"))?,
        ),
        KIND_LOST => {
            if payload.len() != LOST_LEN {
                return Err(format!("a loss frame of {} bytes", payload.len()));
            }
            Frame::Lost(Lost {
                count: u64_at(&payload, 0),
                total: u64_at(&payload, 8),
                ktime_ns: u64_at(&payload, 16),
            })
        }
        KIND_IN_FLIGHT => {
            if !payload.len().is_multiple_of(IN_FLIGHT_LEN) {
                return Err(format!("an in-flight frame of {} bytes", payload.len()));
            }
            let calls = payload
                .chunks_exact(IN_FLIGHT_LEN)
                .filter_map(|c| {
                    let mut comm = [0u8; 16];
                    comm.copy_from_slice(&c[16..32]);
                    Some(InFlight {
                        tid: u32_at(c, 0),
                        tgid: u32_at(c, 4),
                        cgroup_id: u64_at(c, 8),
                        comm,
                        pending: pending_from(&c[32..])?,
                    })
                })
                .collect();
            Frame::InFlight(calls)
        }
        _ => {
            check_batch(&payload)?;
            Frame::Batch(Bytes::from(payload))
        }
    })
}

/// A batch's records must tile it exactly.
fn check_batch(b: &[u8]) -> Result<(), String> {
    let mut rest = b;
    while !rest.is_empty() {
        let Some((len, tail)) = rest.split_first_chunk::<4>() else {
            return Err("a batch frame whose last record length is cut".into());
        };
        let len = u32::from_ne_bytes(*len) as usize;
        let Some(tail) = tail.get(len..) else {
            return Err("a batch frame whose last record is cut".into());
        };
        rest = tail;
    }
    Ok(())
}

#[cfg(test)]
#[path = "recording_tests.rs"]
mod tests;
