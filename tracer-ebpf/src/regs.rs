//! Syscall number and arguments from the task's saved user registers (`struct pt_regs`), for the
//! hooks that get a `pt_regs *` (raw and BTF tracepoints: `TP_PROTO(struct pt_regs *regs, long
//! id)` in include/trace/events/syscalls.h).
use aya_ebpf::helpers::bpf_probe_read_kernel;

/// Words of `struct pt_regs` read in one helper call.
#[cfg(bpf_target_arch = "x86_64")]
const WORDS: usize = 16;
#[cfg(bpf_target_arch = "aarch64")]
const WORDS: usize = 36;

/// arch/x86/include/asm/ptrace.h: r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax.
/// Arguments are di si dx r10 r8 r9; the number is orig_ax.
#[cfg(bpf_target_arch = "x86_64")]
mod layout {
    pub const ARGS: [usize; 6] = [14, 13, 12, 7, 9, 8];
    pub const NR: usize = 15;
}
/// arch/arm64/include/asm/ptrace.h: regs[31] sp pc pstate orig_x0 syscallno. x0 is overwritten
/// by the return value, so the first argument comes from orig_x0.
#[cfg(bpf_target_arch = "aarch64")]
mod layout {
    pub const ARGS: [usize; 6] = [34, 1, 2, 3, 4, 5];
    pub const NR: usize = 35;
}

pub struct SyscallRegs {
    pub nr: u32,
    pub args: [u64; 6],
}

/// Reads the registers behind `regs` (a kernel pointer handed to the hook).
#[inline(always)]
pub fn read(regs: *const [u64; WORDS]) -> Option<SyscallRegs> {
    // SAFETY: probe read of kernel memory; failure is reported, not faulted.
    let words = unsafe { bpf_probe_read_kernel(regs) }.ok()?;
    let mut args = [0u64; 6];
    for (arg, &i) in args.iter_mut().zip(layout::ARGS.iter()) {
        *arg = words[i];
    }
    Some(SyscallRegs {
        nr: words[layout::NR] as u32,
        args,
    })
}

pub type PtRegs = [u64; WORDS];
