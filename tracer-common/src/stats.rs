//! Indices of the per-CPU `STATS` array: counters of everything the kernel side could not do.

/// A record could not be reserved in the ring buffer: the record is lost.
pub const STAT_RINGBUF_FULL: u32 = 0;
/// The pending map refused an update: the enter is lost and the exit is reported unpaired.
pub const STAT_PENDING_FULL: u32 = 1;
/// Reading the syscall registers failed: the record carries zero arguments.
pub const STAT_REGS_UNREADABLE: u32 = 2;
/// A summary map was full: that syscall's counts are missing from the summary.
pub const STAT_SUMMARY_FULL: u32 = 3;
/// `FOLLOWED_TASKS` was full: a child of a followed task is not followed.
pub const STAT_TASKS_FULL: u32 = 4;
/// Number of counters.
pub const STAT_COUNT: u32 = 5;
