//! Output files: created mode 0600 without following a symlink at the final component, rotated
//! by size between whole writes, reopened on request (SIGHUP, for logrotate), and never left
//! ending in part of a line.
//!
//! The sinks write whole lines (one `write_all` per line into a `BufWriter`, whose writes to
//! this file then carry whole lines only), so rotating between two writes never splits a line.
//! When a write fails part-way (ENOSPC, EFBIG, EIO), the file is cut back to the end of the last
//! whole line that reached it: what was written before stays valid JSON lines.
use std::{
    fs::{File, OpenOptions},
    io::{self, Seek as _, Write},
    os::unix::fs::OpenOptionsExt as _,
    path::{Path, PathBuf},
};

/// `O_NOFOLLOW` when `path` lies in a shared directory (sticky or world-writable, like /tmp),
/// where another user could plant a symlink; elsewhere a symlink (`/dev/stdout`) is followed.
fn nofollow_in_shared_dir(path: &Path) -> i32 {
    use std::os::unix::fs::PermissionsExt as _;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match std::fs::metadata(parent) {
        Ok(m) if m.permissions().mode() & 0o1002 == 0 => 0,
        _ => libc::O_NOFOLLOW,
    }
}

/// Opens `path` for appending: created 0600 if absent; a symlink in a shared directory is
/// refused (ELOOP).
pub fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(nofollow_in_shared_dir(path) | libc::O_CLOEXEC)
        .open(path)
}

/// Opens `path` for writing from scratch: same protections.
pub fn create(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(nofollow_in_shared_dir(path) | libc::O_CLOEXEC)
        .open(path)
}

/// Size-based rotation: `FILE` becomes `FILE.1`, `FILE.1` becomes `FILE.2`, …, and `FILE.KEEP`
/// is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub max_bytes: u64,
    pub keep: u32,
}

pub struct OutputFile {
    path: PathBuf,
    file: File,
    /// Bytes in the file, all of them whole lines.
    size: u64,
    rotation: Option<Rotation>,
}

impl OutputFile {
    /// Appends to `path` (the daemon: records survive restarts), rotating by size if asked.
    pub fn open(path: PathBuf, rotation: Option<Rotation>) -> io::Result<Self> {
        let file = open_append(&path)?;
        let size = file.metadata()?.len();
        Ok(OutputFile {
            path,
            file,
            size,
            rotation,
        })
    }

    /// Writes `path` from scratch (`observe --output`).
    pub fn create(path: PathBuf) -> io::Result<Self> {
        let file = create(&path)?;
        Ok(OutputFile {
            path,
            file,
            size: 0,
            rotation: None,
        })
    }

    /// Standard output when the shell redirected it to a regular file (`> out.jsonl`), written
    /// with the same whole-line guarantee; `None` for a terminal, a pipe or a device.
    pub fn stdout() -> Option<Self> {
        use std::os::fd::{AsFd as _, AsRawFd as _};
        let mut file = File::from(io::stdout().as_fd().try_clone_to_owned().ok()?);
        let meta = file.metadata().ok()?;
        if !meta.is_file() {
            return None;
        }
        // SAFETY: F_GETFL on an open descriptor we own.
        let flags = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETFL) };
        // With O_APPEND (`>>`) writes go to the end whatever the offset says.
        let size = if flags >= 0 && flags & libc::O_APPEND != 0 {
            meta.len()
        } else {
            file.stream_position().ok()?
        };
        Some(OutputFile {
            path: PathBuf::from("<stdout>"),
            file,
            size,
            rotation: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes and opens the path again: after logrotate has moved the file away, writing goes
    /// on in a new file at the same path.
    pub fn reopen(&mut self) -> io::Result<()> {
        self.sync()?;
        self.file = open_append(&self.path)?;
        self.size = self.file.metadata()?.len();
        Ok(())
    }

    /// Pushes written data to the disk (at rotation and shutdown). Devices, pipes and sockets
    /// (`-o /dev/null`) have nothing to sync and are left alone.
    pub fn sync(&self) -> io::Result<()> {
        sync(&self.file)
    }

    /// After a failed write of which `written` reached the file: truncates the file to the end
    /// of the last whole line and returns the bytes kept (all of them where nothing can be cut:
    /// a pipe, a device).
    fn cut_back(&mut self, written: &[u8]) -> usize {
        let whole = written
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let end = self.size + whole as u64;
        let kept = if whole < written.len()
            && self.file.set_len(end).is_ok()
            && self.file.seek(io::SeekFrom::Start(end)).is_ok()
        {
            whole
        } else {
            written.len()
        };
        self.size += kept as u64;
        kept
    }

    fn rotate(&mut self, keep: u32) -> io::Result<()> {
        self.sync()?;
        shift(&self.path, keep)?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

/// Pushes written data to the disk; devices, pipes and sockets (`-o /dev/null`) have nothing
/// to sync and are left alone.
pub fn sync(file: &File) -> io::Result<()> {
    match file.sync_data() {
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::EROFS)) => Ok(()),
        r => r,
    }
}

/// `path` with `.N` appended.
fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".{n}"));
    PathBuf::from(p)
}

/// Moves `path` out of the way, as rotation does: `FILE.KEEP` is deleted, `FILE.N` becomes
/// `FILE.N+1`, `FILE` becomes `FILE.1` (with `keep` 0, `FILE` is deleted). A missing file is
/// not an error (logrotate may have moved it already).
pub fn shift(path: &Path, keep: u32) -> io::Result<()> {
    let gone = |r: io::Result<()>| match r {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    };
    if keep == 0 {
        return gone(std::fs::remove_file(path));
    }
    let _ = std::fs::remove_file(numbered(path, keep));
    for n in (1..keep).rev() {
        gone(std::fs::rename(numbered(path, n), numbered(path, n + 1)))?;
    }
    gone(std::fs::rename(path, numbered(path, 1)))
}

impl Write for OutputFile {
    /// Writes all of `buf` (whole lines), then rotates if the file reached its size. On failure
    /// part-way, keeps the whole lines that made it, cuts the rest, and reports the kept bytes
    /// as written (so a retry never duplicates a line); the error comes on the next write.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut done = 0;
        while done < buf.len() {
            let err = match self.file.write(&buf[done..]) {
                Ok(0) => io::ErrorKind::WriteZero.into(),
                Ok(n) => {
                    done += n;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => e,
            };
            return match self.cut_back(&buf[..done]) {
                0 => Err(err),
                kept => Ok(kept),
            };
        }
        self.size += buf.len() as u64;
        if let Some(r) = self.rotation
            && self.size >= r.max_bytes
        {
            self.rotate(r.keep)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tracer-file-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    }

    #[test]
    fn rotates_between_writes_and_keeps_n() {
        let d = dir("rotate");
        let path = d.join("out.jsonl");
        let rotation = Rotation {
            max_bytes: 100,
            keep: 2,
        };
        let mut f = OutputFile::open(path.clone(), Some(rotation)).expect("open");
        let line = [b'x'; 39];
        for i in 0..20u8 {
            let mut l = line.to_vec();
            l[0] = b'a' + i;
            l.push(b'\n');
            f.write_all(&l).expect("write");
        }
        // 40-byte lines, rotation after the write that reaches 100 bytes: 3 lines per file.
        let read = |p: &Path| std::fs::read_to_string(p).expect("read");
        let cur = read(&path);
        let one = read(&numbered(&f.path, 1));
        let two = read(&numbered(&f.path, 2));
        assert!(!numbered(&f.path, 3).exists());
        assert_eq!(cur.lines().count(), 20 % 3);
        assert_eq!(one.lines().count(), 3);
        assert_eq!(two.lines().count(), 3);
        assert!(one.starts_with('p') && two.starts_with('m'), "{one} {two}");
        for text in [cur, one, two] {
            assert!(text.lines().all(|l| l.len() == 39));
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn refuses_symlinks_in_shared_dirs_and_creates_0600() {
        use std::os::unix::fs::PermissionsExt as _;
        let d = dir("nofollow");
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
        let target = d.join("target");
        std::fs::write(&target, b"keep").expect("write");
        let link = d.join("link");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert_eq!(
            open_append(&link).map(|_| ()).map_err(|e| e.raw_os_error()),
            Err(Some(libc::ELOOP))
        );
        assert_eq!(std::fs::read(&target).expect("read"), b"keep");
        // A private directory: the symlink is the owner's own choice and is followed.
        let private = d.join("private");
        std::fs::create_dir(&private).expect("mkdir");
        let own_link = private.join("link");
        std::os::unix::fs::symlink(&target, &own_link).expect("symlink");
        open_append(&own_link).expect("followed");
        let f = d.join("new");
        create(&f).expect("create");
        let mode = std::fs::metadata(&f).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn reopen_follows_a_moved_file() {
        let d = dir("reopen");
        let path = d.join("out.jsonl");
        let mut f = OutputFile::open(path.clone(), None).expect("open");
        f.write_all(b"one\n").expect("write");
        std::fs::rename(&path, d.join("out.jsonl.old")).expect("mv");
        f.write_all(b"two\n").expect("write");
        f.reopen().expect("reopen");
        f.write_all(b"three\n").expect("write");
        assert_eq!(
            std::fs::read_to_string(d.join("out.jsonl.old")).expect("old"),
            "one\ntwo\n"
        );
        assert_eq!(std::fs::read_to_string(&path).expect("new"), "three\n");
        let _ = std::fs::remove_dir_all(&d);
    }
}
