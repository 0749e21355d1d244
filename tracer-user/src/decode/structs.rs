//! Structures read from the traced process, printed as strace prints them and as JSON.
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{escape, flags, timefmt};
use crate::model::event::ArgValue;

/// `sizeof(struct stat)` for the host architecture.
#[cfg(target_arch = "x86_64")]
pub const STAT_SIZE: usize = 144;
#[cfg(not(target_arch = "x86_64"))]
pub const STAT_SIZE: usize = 128;
/// `sizeof(struct statfs)` on 64-bit kernels.
pub const STATFS_SIZE: usize = 120;
/// `sizeof(struct statx)` (include/uapi/linux/stat.h).
pub const STATX_SIZE: usize = 256;
/// `sizeof(struct new_utsname)`: six 65-byte fields.
pub const UTSNAME_SIZE: usize = 6 * 65;

fn u16_ne(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_ne(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_ne(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}
fn i64_ne(b: &[u8], at: usize) -> Option<i64> {
    u64_ne(b, at).map(|v| v as i64)
}

/// Text and JSON of a decoded value.
pub type Decoded = (String, Value);

/// Text and typed JSON of a decoded value: the structures calls pass on the hot path (a stat,
/// epoll events) are built without a `serde_json::Value`.
pub type Typed = (String, ArgValue);

/// A [`Decoded`] as a [`Typed`].
pub fn typed((text, json): Decoded) -> Typed {
    (text, json.into())
}

/// `ArgValue::Object` with these keys, in this order: `object! {"fd" => fd, "events" => e}`.
macro_rules! object {
    ($($k:literal => $v:expr),* $(,)?) => {
        $crate::model::event::ArgValue::Object(vec![
            $(($k, $crate::model::event::ArgValue::from($v))),*
        ])
    };
}
pub(crate) use object;

/// `[-2401053079814340911]`: a `loff_t` behind a pointer (unsigned for sendfile).
pub fn loff(b: &[u8], unsigned: bool) -> Option<Typed> {
    let v = u64_ne(b, 0)?;
    Some(if unsigned {
        (format!("[{v}]"), v.into())
    } else {
        (format!("[{}]", v as i64), (v as i64).into())
    })
}

/// struct stat, as strace prints it (when `text`): mode and size (or rdev) with `...`, every
/// field with -v (`no_abbrev`). JSON always carries every field.
pub fn stat(b: &[u8], no_abbrev: bool, text: bool) -> Option<Typed> {
    // struct stat (arch/x86/include/uapi/asm/stat.h; the generic layout elsewhere).
    #[cfg(target_arch = "x86_64")]
    let (dev, ino, nlink, mode, uid, gid, rdev, size, blksize, blocks) = (
        u64_ne(b, 0)?,
        u64_ne(b, 8)?,
        u64_ne(b, 16)?,
        u32_ne(b, 24)?,
        u32_ne(b, 28)?,
        u32_ne(b, 32)?,
        u64_ne(b, 40)?,
        i64_ne(b, 48)?,
        i64_ne(b, 56)?,
        i64_ne(b, 64)?,
    );
    #[cfg(not(target_arch = "x86_64"))]
    let (dev, ino, nlink, mode, uid, gid, rdev, size, blksize, blocks) = (
        u64_ne(b, 0)?,
        u64_ne(b, 8)?,
        u64::from(u32_ne(b, 20)?),
        u32_ne(b, 16)?,
        u32_ne(b, 24)?,
        u32_ne(b, 28)?,
        u64_ne(b, 32)?,
        i64_ne(b, 48)?,
        i64::from(u32_ne(b, 56)? as i32),
        i64_ne(b, 64)?,
    );
    // st_atime, st_atime_nsec, … follow st_blocks as (long, unsigned long) pairs.
    let time = |k: usize| Some((i64_ne(b, 72 + 16 * k)?, u64_ne(b, 80 + 16 * k)?));
    let times = [time(0)?, time(1)?, time(2)?];
    let mut mode_text = String::with_capacity(24);
    flags::st_mode(&mut mode_text, u64::from(mode));
    let ty = mode & libc::S_IFMT;
    let is_dev = ty == libc::S_IFCHR || ty == libc::S_IFBLK;
    let (major, minor) = (libc::major(rdev), libc::minor(rdev));
    let json = |mode_text: String| {
        object! {
            "st_dev" => dev, "st_ino" => ino, "st_mode" => mode_text, "st_mode_raw" => mode,
            "st_nlink" => nlink, "st_uid" => uid, "st_gid" => gid, "st_blksize" => blksize,
            "st_blocks" => blocks, "st_size" => size, "st_rdev_major" => major,
            "st_rdev_minor" => minor,
            "st_atime" => times[0].0, "st_atime_nsec" => times[0].1,
            "st_mtime" => times[1].0, "st_mtime_nsec" => times[1].1,
            "st_ctime" => times[2].0, "st_ctime_nsec" => times[2].1,
        }
    };
    if !text {
        return Some((String::new(), json(mode_text)));
    }
    let mut text = String::from("{");
    if no_abbrev {
        let _ = write!(
            text,
            "st_dev={}, st_ino={ino}, st_mode={mode_text}, st_nlink={nlink}, st_uid={uid}, \
             st_gid={gid}, st_blksize={blksize}, st_blocks={blocks}",
            makedev(dev)
        );
    } else {
        let _ = write!(text, "st_mode={mode_text}");
    }
    if is_dev {
        let _ = write!(text, ", st_rdev={}", makedev(rdev));
    } else {
        let _ = write!(text, ", st_size={size}");
    }
    if no_abbrev {
        for (name, (sec, nsec)) in ["atime", "mtime", "ctime"].iter().zip(&times) {
            let _ = write!(text, ", st_{name}={sec}");
            timefmt::comment(&mut text, *sec, *nsec, 9);
            let _ = write!(text, ", st_{name}_nsec={nsec}");
        }
        text.push('}');
    } else {
        text.push_str(", ...}");
    }
    Some((text, json(mode_text)))
}

/// `makedev(0x1, 0x7)`, as strace prints a `dev_t` (C's `%#x` for each part).
pub fn makedev(dev: u64) -> String {
    format!(
        "makedev({}, {})",
        c_hex(u64::from(libc::major(dev))),
        c_hex(u64::from(libc::minor(dev)))
    )
}

/// C's `%#x`: `0` for zero, else `0x…`.
fn c_hex(v: u64) -> String {
    if v == 0 {
        "0".into()
    } else {
        format!("{v:#x}")
    }
}

/// `struct statfs`, all fields as strace prints them.
pub fn statfs(b: &[u8]) -> Option<Decoded> {
    let w = |i: usize| u64_ne(b, i * 8);
    let ty = w(0)?;
    let fsid = [u32_ne(b, 56)?, u32_ne(b, 60)?];
    let (namelen, frsize, fl) = (w(8)?, w(9)?, w(10)?);
    let ty_name = match flags::FS_MAGIC.iter().find(|(v, _)| *v == ty) {
        Some((_, n)) => (*n).to_string(),
        None => format!("{ty:#x}"),
    };
    let st_flags = flags::bits_string(fl, flags::ST_FLAGS, "0");
    let text = format!(
        "{{f_type={ty_name}, f_bsize={}, f_blocks={}, f_bfree={}, f_bavail={}, f_files={}, f_ffree={}, f_fsid={{val=[{}, {}]}}, f_namelen={namelen}, f_frsize={frsize}, f_flags={st_flags}}}",
        w(1)?,
        w(2)?,
        w(3)?,
        w(4)?,
        w(5)?,
        w(6)?,
        c_hex(u64::from(fsid[0])),
        c_hex(u64::from(fsid[1])),
    );
    Some((
        text,
        json!({"f_type": ty_name, "f_bsize": w(1)?, "f_blocks": w(2)?, "f_bfree": w(3)?,
               "f_bavail": w(4)?, "f_files": w(5)?, "f_ffree": w(6)?, "f_fsid": fsid,
               "f_namelen": namelen, "f_frsize": frsize, "f_flags": st_flags}),
    ))
}

/// `{tv_sec=…, tv_nsec=…} /* 2026-12-01T04:19:33.659914262+0000 */` (struct
/// statx_timestamp: s64 seconds, u32 nanoseconds).
fn statx_timestamp(b: &[u8], at: usize) -> Option<(String, Value)> {
    let sec = i64_ne(b, at)?;
    let nsec = u32_ne(b, at + 8)?;
    let mut t = format!("{{tv_sec={sec}, tv_nsec={nsec}}}");
    timefmt::comment(&mut t, sec, u64::from(nsec), 9);
    Some((t, json!({"tv_sec": sec, "tv_nsec": nsec})))
}

/// strace's printuid: (uid_t) -1 is `-1`.
fn id(v: u32) -> String {
    if v == u32::MAX {
        "-1".into()
    } else {
        v.to_string()
    }
}

/// `struct statx` as strace prints it (src/statx.c): mask, attributes, mode and size, then
/// `...`; every field with -v (`no_abbrev`), those the mask says are filled. JSON always
/// carries every field.
pub fn statx(b: &[u8], no_abbrev: bool) -> Option<Decoded> {
    const TYPE_MODE: u32 = 0x3;
    const NLINK: u32 = 0x4;
    const UID: u32 = 0x8;
    const GID: u32 = 0x10;
    const ATIME: u32 = 0x20;
    const MTIME: u32 = 0x40;
    const CTIME: u32 = 0x80;
    const INO: u32 = 0x100;
    const SIZE: u32 = 0x200;
    const BLOCKS: u32 = 0x400;
    const BTIME: u32 = 0x800;
    const MNT_ID: u32 = 0x1000;
    const DIOALIGN: u32 = 0x2000;
    let m = u32_ne(b, 0)?;
    let mask = flags::flags_string(u64::from(m), flags::STATX_MASK, "0", "STATX_???");
    let blksize = u32_ne(b, 4)?;
    let attrs = flags::flags_string(u64_ne(b, 8)?, flags::STATX_ATTRS, "0", "STATX_ATTR_???");
    let (nlink, uid, gid) = (u32_ne(b, 16)?, u32_ne(b, 20)?, u32_ne(b, 24)?);
    let mode = u64::from(u16_ne(b, 28)?);
    let (ino, size, blocks) = (u64_ne(b, 32)?, u64_ne(b, 40)?, u64_ne(b, 48)?);
    let mut mode_text = String::new();
    flags::symbolic_mode(&mut mode_text, mode);
    let mut j = json!({"stx_mask": mask, "stx_blksize": blksize, "stx_attributes": attrs,
        "stx_nlink": nlink, "stx_uid": uid, "stx_gid": gid, "stx_mode": mode_text,
        "stx_ino": ino, "stx_size": size, "stx_blocks": blocks});
    let mut t = format!("{{stx_mask={mask}");
    if no_abbrev {
        let _ = write!(t, ", stx_blksize={blksize}");
    }
    let _ = write!(t, ", stx_attributes={attrs}");
    if no_abbrev {
        if m & NLINK != 0 {
            let _ = write!(t, ", stx_nlink={nlink}");
        }
        if m & UID != 0 {
            let _ = write!(t, ", stx_uid={}", id(uid));
        }
        if m & GID != 0 {
            let _ = write!(t, ", stx_gid={}", id(gid));
        }
    }
    if m & TYPE_MODE != 0 {
        let _ = write!(t, ", stx_mode={mode_text}");
    }
    if no_abbrev && m & INO != 0 {
        let _ = write!(t, ", stx_ino={ino}");
    }
    if m & SIZE != 0 {
        let _ = write!(t, ", stx_size={size}");
    }
    // The rest is in the full structure only (a short capture: the abbreviated form).
    let rest = (|| {
        let attrs_mask =
            flags::flags_string(u64_ne(b, 56)?, flags::STATX_ATTRS, "0", "STATX_ATTR_???");
        let times = [
            ("stx_atime", 64, ATIME),
            ("stx_btime", 80, BTIME),
            ("stx_ctime", 96, CTIME),
            ("stx_mtime", 112, MTIME),
        ];
        let mut s = String::new();
        let mut o = serde_json::Map::new();
        if m & BLOCKS != 0 {
            let _ = write!(s, ", stx_blocks={blocks}");
        }
        let _ = write!(s, ", stx_attributes_mask={attrs_mask}");
        o.insert("stx_attributes_mask".into(), json!(attrs_mask));
        for (name, at, bit) in times {
            let (tt, tj) = statx_timestamp(b, at)?;
            if m & bit != 0 {
                let _ = write!(s, ", {name}={tt}");
            }
            o.insert(name.into(), tj);
        }
        let names = [
            "stx_rdev_major",
            "stx_rdev_minor",
            "stx_dev_major",
            "stx_dev_minor",
        ];
        for (k, name) in names.iter().enumerate() {
            let v = u32_ne(b, 128 + 4 * k)?;
            let _ = write!(s, ", {name}={v}");
            o.insert((*name).into(), json!(v));
        }
        let mnt_id = u64_ne(b, 144)?;
        if m & MNT_ID != 0 {
            let _ = write!(s, ", stx_mnt_id={}", c_hex(mnt_id));
        }
        o.insert("stx_mnt_id".into(), json!(mnt_id));
        let (mem, off) = (u32_ne(b, 152)?, u32_ne(b, 156)?);
        if m & DIOALIGN != 0 {
            let _ = write!(s, ", stx_dio_mem_align={mem}, stx_dio_offset_align={off}");
        }
        o.insert("stx_dio_mem_align".into(), json!(mem));
        o.insert("stx_dio_offset_align".into(), json!(off));
        Some((s, o))
    })();
    match rest {
        Some((s, o)) => {
            if no_abbrev {
                t.push_str(&s);
                t.push('}');
            } else {
                t.push_str(", ...}");
            }
            if let Value::Object(jm) = &mut j {
                jm.extend(o);
            }
        }
        None => t.push_str(", ...}"),
    }
    Some((t, j))
}

/// `struct epoll_event` (packed on x86_64: u32 events, u64 data); the text when `text`.
fn epoll_event_at(b: &[u8], at: usize, size: usize, text: bool) -> Option<Typed> {
    let ev = u32_ne(b, at)?;
    let data_at = if size == 12 { at + 4 } else { at + 8 };
    let data = u64_ne(b, data_at)?;
    let events = match flags::bits_name(u64::from(ev), flags::EPOLL_EVENTS, "0") {
        Some(name) => ArgValue::Name(name),
        None => flags::bits_string(u64::from(ev), flags::EPOLL_EVENTS, "0").into(),
    };
    let text = if text {
        format!(
            "{{events={}, data={{u32={}, u64={data}}}}}",
            events.as_str().unwrap_or_default(),
            data as u32
        )
    } else {
        String::new()
    };
    Some((
        text,
        object! {"events" => events, "events_raw" => ev, "data" => data},
    ))
}

#[cfg(target_arch = "x86_64")]
pub const EPOLL_EVENT_SIZE: usize = 12;
#[cfg(not(target_arch = "x86_64"))]
pub const EPOLL_EVENT_SIZE: usize = 16;

pub fn epoll_event(b: &[u8], text: bool) -> Option<Typed> {
    epoll_event_at(b, 0, EPOLL_EVENT_SIZE, text)
}

pub fn epoll_events(b: &[u8], truncated: bool, text: bool) -> Typed {
    array(b, EPOLL_EVENT_SIZE, truncated, text, |e| {
        epoll_event_at(e, 0, EPOLL_EVENT_SIZE, text)
    })
}

/// `[{fd=3, events=POLLIN}]`.
pub fn pollfds(b: &[u8], truncated: bool, max: usize, unreadable: Option<u64>) -> Decoded {
    let mut text = String::from("[");
    let mut items = Vec::new();
    for (i, e) in b.chunks_exact(8).enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        // strace's print_array: at most `-s` elements.
        if i >= max {
            text.push_str("...");
            break;
        }
        let fd = i32::from_ne_bytes([e[0], e[1], e[2], e[3]]);
        let ev = u16::from_ne_bytes([e[4], e[5]]);
        // The kernel ignores the events of a negative fd; strace does not print them.
        if fd < 0 {
            let _ = write!(text, "{{fd={fd}}}");
            items.push(json!({"fd": fd}));
            continue;
        }
        let events = flags::bits_string(u64::from(ev), flags::POLL_EVENTS, "0");
        let _ = write!(text, "{{fd={fd}, events={events}}}");
        items.push(json!({"fd": fd, "events": events}));
    }
    let shown = b.len() / 8;
    if let Some(at) = unreadable.filter(|_| shown < max) {
        if shown > 0 {
            text.push_str(", ");
        }
        let _ = write!(text, "... /* {at:#x} */");
    } else if truncated && shown < max {
        text.push_str(if shown == 0 { "..." } else { ", ..." });
    }
    text.push(']');
    (text, Value::Array(items))
}

/// mincore's vector, `[1, 0, 1, ...]`: whether each page is resident (bit 0 of its byte), at
/// most `max` of them (strace's `-s`).
pub fn mincore_vec(b: &[u8], truncated: bool, max: usize) -> Decoded {
    let mut text = String::from("[");
    for (i, v) in b.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        if i >= max {
            text.push_str("...");
            break;
        }
        let _ = write!(text, "{}", v & 1);
    }
    if truncated && b.len() < max {
        text.push_str(if b.is_empty() { "..." } else { ", ..." });
    }
    text.push(']');
    let resident: Vec<u8> = b.iter().map(|v| v & 1).collect();
    (text, json!(resident))
}

/// poll's note after the return value: the entries whose `revents` the call set,
/// `[{fd=3, revents=POLLIN|POLLHUP}]`, at most `max` of them (strace's `-s`), then `...`;
/// `unreadable`: the address of the first entry that could not be read, shown last.
pub fn revents(out: &mut String, b: &[u8], max: usize, unreadable: Option<u64>) {
    let mut printed = 0;
    let mut any = false;
    for e in b.chunks_exact(8) {
        let fd = i32::from_ne_bytes([e[0], e[1], e[2], e[3]]);
        let revents = u16::from_ne_bytes([e[6], e[7]]);
        if revents == 0 {
            continue;
        }
        out.push_str(if any { ", " } else { "[" });
        any = true;
        if printed >= max {
            out.push_str("...");
            break;
        }
        let _ = write!(
            out,
            "{{fd={fd}, revents={}}}",
            flags::bits_string(u64::from(revents), flags::POLL_EVENTS, "0")
        );
        printed += 1;
    }
    if let Some(at) = unreadable.filter(|_| printed < max || !any) {
        out.push_str(if any { ", " } else { "[" });
        any = true;
        let _ = write!(out, "{at:#x}");
    }
    if any {
        out.push(']');
    }
}

/// `[…, …]` of the `size`-byte elements in `b`; the text when `text`.
fn array(
    b: &[u8],
    size: usize,
    truncated: bool,
    text: bool,
    each: impl Fn(&[u8]) -> Option<Typed>,
) -> Typed {
    let mut t = String::new();
    let mut items = Vec::with_capacity(b.len() / size.max(1));
    for (i, chunk) in b.chunks_exact(size).enumerate() {
        let Some((et, j)) = each(chunk) else { break };
        if text {
            t.push_str(if i > 0 { ", " } else { "[" });
            t.push_str(&et);
        }
        items.push(j);
    }
    if text {
        if items.is_empty() {
            t.push('[');
        }
        if truncated {
            t.push_str(if items.is_empty() { "..." } else { ", ..." });
        }
        t.push(']');
    }
    (t, ArgValue::Array(items))
}

/// `8192*1024` and `RLIM64_INFINITY` as strace prints rlimit values.
fn rlim(v: u64) -> String {
    if v == u64::MAX {
        "RLIM64_INFINITY".into()
    } else if v > 1024 && v.is_multiple_of(1024) {
        format!("{}*1024", v / 1024)
    } else {
        v.to_string()
    }
}

pub fn rlimit(b: &[u8]) -> Option<Decoded> {
    let cur = u64_ne(b, 0)?;
    let max = u64_ne(b, 8)?;
    Some((
        format!("{{rlim_cur={}, rlim_max={}}}", rlim(cur), rlim(max)),
        json!({"rlim_cur": cur, "rlim_max": max}),
    ))
}

/// `{sysname="Linux", nodename="web", ...}`; every field with -v (`no_abbrev`).
pub fn utsname(b: &[u8], no_abbrev: bool) -> Option<Decoded> {
    let field = |i: usize| -> Option<&[u8]> {
        let f = b.get(i * 65..(i + 1) * 65)?;
        Some(f.split(|&c| c == 0).next().unwrap_or(f))
    };
    let names = [
        "sysname",
        "nodename",
        "release",
        "version",
        "machine",
        "domainname",
    ];
    let shown = if no_abbrev { names.len() } else { 2 };
    let mut text = String::from("{");
    for (i, n) in names.iter().enumerate().take(shown) {
        if i > 0 {
            text.push_str(", ");
        }
        let _ = write!(text, "{n}={}", escape::quoted(field(i)?, false));
    }
    text.push_str(if no_abbrev { "}" } else { ", ...}" });
    let mut o = serde_json::Map::new();
    for (i, n) in names.iter().enumerate() {
        if let Some(f) = field(i) {
            o.insert((*n).into(), String::from_utf8_lossy(f).into_owned().into());
        }
    }
    Some((text, Value::Object(o)))
}

/// `[3, 4]` for pipe.
pub fn fd_pair(b: &[u8]) -> Option<Decoded> {
    let a = u32_ne(b, 0)? as i32;
    let c = u32_ne(b, 4)? as i32;
    Some((format!("[{a}, {c}]"), json!([a, c])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_rlimit_and_arrays() {
        let mut st = vec![0u8; STAT_SIZE];
        #[cfg(target_arch = "x86_64")]
        {
            st[24..28].copy_from_slice(&(libc::S_IFREG | 0o644).to_ne_bytes());
            st[48..56].copy_from_slice(&612i64.to_ne_bytes());
            assert_eq!(
                stat(&st, false, true).map(|d| d.0).as_deref(),
                Some("{st_mode=S_IFREG|0644, st_size=612, ...}")
            );
            // -v, a character device (strace 6.1, tests/stat.c on /dev/full): times at the
            // epoch get no comment.
            st[0..8].copy_from_slice(&6u64.to_ne_bytes());
            st[8..16].copy_from_slice(&5u64.to_ne_bytes());
            st[16..24].copy_from_slice(&1u64.to_ne_bytes());
            st[24..28].copy_from_slice(&(libc::S_IFCHR | 0o666).to_ne_bytes());
            st[40..48].copy_from_slice(&libc::makedev(1, 7).to_ne_bytes());
            st[56..64].copy_from_slice(&4096i64.to_ne_bytes());
            assert_eq!(
                stat(&st, true, true).map(|d| d.0).as_deref(),
                Some(
                    "{st_dev=makedev(0, 0x6), st_ino=5, st_mode=S_IFCHR|0666, st_nlink=1, \
                     st_uid=0, st_gid=0, st_blksize=4096, st_blocks=0, \
                     st_rdev=makedev(0x1, 0x7), st_atime=0, st_atime_nsec=0, st_mtime=0, \
                     st_mtime_nsec=0, st_ctime=0, st_ctime_nsec=0}"
                )
            );
            assert_eq!(stat(&st[..100], true, true), None);
        }
        let mut rl = Vec::new();
        rl.extend_from_slice(&(8192u64 * 1024).to_ne_bytes());
        rl.extend_from_slice(&u64::MAX.to_ne_bytes());
        assert_eq!(
            rlimit(&rl).map(|d| d.0).as_deref(),
            Some("{rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}")
        );
        let mut pfd = Vec::new();
        pfd.extend_from_slice(&3i32.to_ne_bytes());
        pfd.extend_from_slice(&1u16.to_ne_bytes());
        pfd.extend_from_slice(&0u16.to_ne_bytes());
        assert_eq!(pollfds(&pfd, false, 32, None).0, "[{fd=3, events=POLLIN}]");
        assert_eq!(
            pollfds(&pfd, true, 32, None).0,
            "[{fd=3, events=POLLIN}, ...]"
        );
        // strace 6.1, tests/mincore.c.
        assert_eq!(mincore_vec(&[1, 0, 3], false, 32).0, "[1, 0, 1]");
        assert_eq!(mincore_vec(&[1, 0, 3], false, 2).0, "[1, 0, ...]");
        assert_eq!(mincore_vec(&[], false, 2).0, "[]");
        // strace 6.1, tests/poll.c and ppoll.c: negative fds, -s 1, a bad page.
        let mut two = (-5i32).to_ne_bytes().to_vec();
        two.extend_from_slice(&[1, 0, 0, 0]);
        two.extend_from_slice(&pfd);
        assert_eq!(
            pollfds(&two, false, 32, None).0,
            "[{fd=-5}, {fd=3, events=POLLIN}]"
        );
        assert_eq!(pollfds(&two, false, 1, None).0, "[{fd=-5}, ...]");
        assert_eq!(
            pollfds(&two[..8], false, 32, Some(0x7000)).0,
            "[{fd=-5}, ... /* 0x7000 */]"
        );
        assert_eq!(
            fd_pair(&[3, 0, 0, 0, 4, 0, 0, 0]).map(|d| d.0).as_deref(),
            Some("[3, 4]")
        );
    }
}
