#!/usr/bin/env python3
"""Can this kernel attach trampoline programs to the syscall dispatcher?

Loads (BPF_PROG_LOAD) a two-instruction BPF_PROG_TYPE_TRACING program with the expected
attach types BPF_TRACE_FENTRY and BPF_TRACE_FEXIT on vmlinux's `x64_sys_call` (the function
every x86-64 syscall goes through since 6.9), and, as a control that the request itself is
well formed, BPF_TRACE_RAW_TP on `btf_trace_sys_enter` (tracer's `--hook btf`), which must
load. docs/design.md ("fentry on the syscall dispatcher") has this machine's answers.

Run as root: python3 xtask/probes/fentry.py
"""
import ctypes
import os
import struct
import subprocess
import sys

SYS_BPF = 321  # x86-64
BPF_PROG_LOAD = 5
BPF_PROG_TYPE_TRACING = 26
BPF_TRACE_RAW_TP, BPF_TRACE_FENTRY, BPF_TRACE_FEXIT = 23, 24, 25

libc = ctypes.CDLL(None, use_errno=True)
btf = subprocess.run(
    ["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
    capture_output=True, text=True, check=True,
).stdout


def btf_id(kind_and_name):
    for line in btf.splitlines():
        if kind_and_name in line:
            return int(line.split("]")[0][1:])
    sys.exit(f"{kind_and_name} not in vmlinux BTF")


def load(attach_type, target):
    """BPF_PROG_LOAD of `r0 = 0; exit`; returns (ok, what the kernel said)."""
    insns = ctypes.create_string_buffer(
        struct.pack("<BBhi", 0xB7, 0, 0, 0) + struct.pack("<BBhi", 0x95, 0, 0, 0)
    )
    license_ = ctypes.create_string_buffer(b"GPL")
    log = ctypes.create_string_buffer(65536)
    # union bpf_attr, BPF_PROG_LOAD (include/uapi/linux/bpf.h).
    attr = bytearray(144)
    struct.pack_into("<II", attr, 0, BPF_PROG_TYPE_TRACING, 2)  # prog_type, insn_cnt
    struct.pack_into("<QQ", attr, 8, ctypes.addressof(insns), ctypes.addressof(license_))
    struct.pack_into("<IIQ", attr, 24, 1, len(log), ctypes.addressof(log))  # log level 1
    struct.pack_into("<I", attr, 68, attach_type)  # expected_attach_type
    struct.pack_into("<I", attr, 108, btf_id(target))  # attach_btf_id
    buf = ctypes.create_string_buffer(bytes(attr))
    fd = libc.syscall(SYS_BPF, BPF_PROG_LOAD, buf, len(attr))
    if fd >= 0:
        os.close(fd)
        return True, "loads"
    err = ctypes.get_errno()
    said = log.value.decode(errors="replace").strip()
    return False, f"{os.strerror(err)} (errno {err}), verifier log {said!r}"


ok, said = load(BPF_TRACE_RAW_TP, "TYPEDEF 'btf_trace_sys_enter'")
print(f"control: tp_btf/sys_enter: {said}")
if not ok:
    sys.exit("the control did not load: the probe itself is broken here")
for name, kind in (("fentry", BPF_TRACE_FENTRY), ("fexit", BPF_TRACE_FEXIT)):
    _, said = load(kind, "FUNC 'x64_sys_call'")
    print(f"{name}/x64_sys_call: {said}")
