//! The C type of a syscall argument decides its value: the kernel's `SYSCALL_DEFINE` wrappers
//! convert each 64-bit register to the declared type before the call runs, so the upper bits
//! of a register holding an `int` never reach the kernel, and must not reach the decoders
//! either (strace prints `faccessat2(-1, NULL, R_OK, 0)` for registers `0xdefaced_ffffffff,
//! 0, 0xdefaced_00000004, 0xdefaced_00000000`). The types are the ones in the kernel's tracefs
//! format files (`syscall_args.rs`).

/// How many bits of the register the declared type keeps, and whether it is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// `int`, `pid_t`, `clockid_t`, `key_serial_t`, `timer_t`, `mqd_t`, …
    I32,
    /// `unsigned int`, `uid_t`, `gid_t`, `u32`, enums, …
    U32,
    /// `umode_t` (`unsigned short`, include/linux/types.h).
    U16,
    /// `long`, `off_t`, `loff_t`: the whole register, signed.
    I64,
    /// `unsigned long`, `size_t`, pointers: the whole register.
    U64,
}

/// The width of a tracefs argument type (`const` ignored).
pub fn width(ty: &str) -> Width {
    if ty.contains('*') {
        return Width::U64;
    }
    let ty = ty.strip_prefix("const ").unwrap_or(ty);
    match ty {
        "int" | "pid_t" | "clockid_t" | "key_serial_t" | "mqd_t" | "timer_t" | "key_t"
        | "rwf_t" | "__s32" | "s32" => Width::I32,
        "unsigned int" | "unsigned" | "u32" | "__u32" | "uid_t" | "gid_t" | "qid_t" => Width::U32,
        t if t.starts_with("enum ") => Width::U32,
        "umode_t" => Width::U16,
        "long" | "off_t" | "loff_t" | "ssize_t" | "__s64" | "s64" => Width::I64,
        _ => Width::U64,
    }
}

/// The argument's value as the kernel sees it, zero-extended to 64 bits: the low 32 (or 16)
/// bits for the narrow types, the register for the others. Flags, modes and enum values are
/// decoded from this.
pub fn narrow(ty: &str, raw: u64) -> u64 {
    width(ty).narrow(raw)
}

/// The number C prints for the argument (`%d`, `%u`, `%ld`, `%lu`): signed types
/// sign-extended from their own width.
pub fn number(ty: &str, raw: u64) -> Number {
    width(ty).number(raw)
}

impl Width {
    /// [`narrow`] for a type of this width.
    pub fn narrow(self, raw: u64) -> u64 {
        match self {
            Width::I32 | Width::U32 => u64::from(raw as u32),
            Width::U16 => u64::from(raw as u16),
            Width::I64 | Width::U64 => raw,
        }
    }

    /// [`number`] for a type of this width.
    pub fn number(self, raw: u64) -> Number {
        match self {
            Width::I32 => Number::Signed(i64::from(raw as u32 as i32)),
            Width::I64 => Number::Signed(raw as i64),
            Width::U32 | Width::U16 | Width::U64 => Number::Unsigned(self.narrow(raw)),
        }
    }
}

/// A decoded integer argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Number {
    Signed(i64),
    Unsigned(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    const HI: u64 = 0x0def_aced_0000_0000;

    #[test]
    fn the_declared_type_decides_the_bits() {
        assert_eq!(number("int", HI | 0xffff_ffff), Number::Signed(-1));
        assert_eq!(number("const int", HI | 5), Number::Signed(5));
        assert_eq!(number("pid_t", HI | 1), Number::Signed(1));
        assert_eq!(number("const clockid_t", HI | 1), Number::Signed(1));
        assert_eq!(
            number("unsigned int", HI | 0xffff_fffe),
            Number::Unsigned(0xffff_fffe)
        );
        assert_eq!(
            number("uid_t", HI | 0xffff_fffe),
            Number::Unsigned(4_294_967_294)
        );
        assert_eq!(narrow("umode_t", HI | 0x1_0000 | 0o644), 0o644);
        assert_eq!(narrow("int", HI | 0x8000_0000), 0x8000_0000);
        // The whole register for long, size_t and pointers.
        assert_eq!(number("long", u64::MAX), Number::Signed(-1));
        assert_eq!(number("size_t", HI | 5), Number::Unsigned(HI | 5));
        assert_eq!(narrow("const char *", HI | 5), HI | 5);
        assert_eq!(narrow("unsigned long", HI | 5), HI | 5);
        assert_eq!(width("const enum landlock_rule_type"), Width::U32);
    }
}
