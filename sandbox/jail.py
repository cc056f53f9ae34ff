"""OS layer applied inside a freshly forked child, before any untrusted code runs.

Order matters: session and fds first, then namespaces and rlimits (which need syscalls the
seccomp filter later forbids), then ``no_new_privs``, Landlock, and seccomp last.

* **empty env / fds / cwd**: ``os.environ`` cleared (the server already started with an empty
  environment), stdin/stdout/stderr on ``/dev/null``, every other fd closed except the pipe,
  cwd a fresh temporary directory that is removed at once (nothing can be written there).
* **rlimits**: address space = current size + ``memory_mb`` (so a 10 GB allocation fails with
  ``MemoryError``), CPU seconds, file size 0, open files, core dumps 0.
* **network namespace**: ``unshare(CLONE_NEWNET)``: only a down loopback exists.
* **Landlock** (ABI >= 1): read-only access beneath the Python installation (lazy imports) and
  nothing else; ABI >= 4 also forbids TCP bind/connect; ABI >= 6 forbids signalling processes
  outside the sandbox and abstract unix sockets.
* **seccomp** (x86_64): denies socket/connect/bind/listen/accept, execve, fork/vfork and
  non-thread clone, ptrace, process_vm_*, mount/namespace/module/bpf syscalls, rlimit changes,
  file creation/removal/renames, ``open`` with write flags, and kill/tgkill aimed at another pid.

Each step reports ``(active, detail)``; failures are reported, not raised, and the runner
decides with ``Limits.require_layers`` whether that is acceptable.
"""

from __future__ import annotations

import ctypes
import os
import platform
import resource
import signal
import struct
import sys
import sysconfig
import tempfile

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

PR_SET_NO_NEW_PRIVS = 38
PR_SET_PDEATHSIG = 1
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
CLONE_NEWNET = 0x40000000
CLONE_THREAD = 0x00010000
AUDIT_ARCH_X86_64 = 0xC000003E

# x86_64 syscall numbers (from asm/unistd_64.h; checked by tests/sandbox/test_jail.py).
SYSCALLS = {
    "socket": 41, "connect": 42, "accept": 43, "bind": 49, "listen": 50, "socketpair": 53,
    "clone": 56, "fork": 57, "vfork": 58, "execve": 59, "kill": 62, "truncate": 76, "rename": 82,
    "mkdir": 83, "rmdir": 84, "creat": 85, "link": 86, "unlink": 87, "symlink": 88, "chmod": 90,
    "fchmod": 91, "chown": 92, "fchown": 93, "lchown": 94, "ptrace": 101, "setuid": 105,
    "setgid": 106, "setreuid": 113, "setregid": 114, "setgroups": 116, "setresuid": 117,
    "setresgid": 119, "capset": 126, "mknod": 133, "personality": 135, "pivot_root": 155,
    "setrlimit": 160, "chroot": 161, "acct": 163, "settimeofday": 164, "mount": 165, "umount2": 166,
    "swapon": 167, "swapoff": 168, "reboot": 169, "sethostname": 170, "setdomainname": 171,
    "iopl": 172, "ioperm": 173, "init_module": 175, "delete_module": 176, "quotactl": 179,
    "tkill": 200, "clock_settime": 227, "tgkill": 234, "kexec_load": 246, "add_key": 248,
    "request_key": 249, "keyctl": 250, "open": 2, "openat": 257, "mkdirat": 258, "mknodat": 259,
    "fchownat": 260, "unlinkat": 263, "renameat": 264, "linkat": 265, "symlinkat": 266,
    "fchmodat": 268, "unshare": 272, "accept4": 288, "perf_event_open": 298, "fanotify_init": 300,
    "prlimit64": 302, "name_to_handle_at": 303, "open_by_handle_at": 304, "setns": 308,
    "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "finit_module": 313,
    "renameat2": 316, "kexec_file_load": 320, "bpf": 321, "execveat": 322, "userfaultfd": 323,
    "pidfd_send_signal": 424, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "pidfd_open": 434, "clone3": 435, "openat2": 437,
    "pidfd_getfd": 438, "mount_setattr": 442,
}
DENIED_SYSCALLS = sorted(
    set(SYSCALLS) - {"clone", "clone3", "open", "openat", "openat2", "kill", "tgkill"}
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

# classic BPF opcodes
_LD_W_ABS, _JEQ_K, _JGE_K, _JSET_K, _RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
_RET_KILL, _RET_ALLOW, _RET_ERRNO = 0x80000000, 0x7FFF0000, 0x00050000
_NR, _ARCH = 0, 4


def _arg_lo(i: int) -> int:
    return 16 + 8 * i  # low 32 bits of seccomp_data.args[i] (little endian)


def seccomp_program(pid: int) -> list[tuple[int, int, int, int]]:
    """The BPF filter as ``(code, jt, jf, k)`` tuples; ``pid`` is the only kill/tgkill target."""
    eperm, eacces, enosys = _RET_ERRNO | 1, _RET_ERRNO | 13, _RET_ERRNO | 38
    prog = [
        (_LD_W_ABS, 0, 0, _ARCH), (_JEQ_K, 1, 0, AUDIT_ARCH_X86_64), (_RET_K, 0, 0, _RET_KILL),
        (_LD_W_ABS, 0, 0, _NR), (_JGE_K, 0, 1, 0x40000000), (_RET_K, 0, 0, eperm),  # x32 ABI
    ]
    for name in DENIED_SYSCALLS:
        prog += [(_JEQ_K, 0, 1, SYSCALLS[name]), (_RET_K, 0, 0, eperm)]
    # clone3 passes flags in a struct seccomp cannot read: ENOSYS makes libc fall back to clone.
    for name in ("clone3", "openat2"):
        prog += [(_JEQ_K, 0, 1, SYSCALLS[name]), (_RET_K, 0, 0, enosys)]
    blocks = [
        ("clone", 0, (_JSET_K, 0, 1, CLONE_THREAD), _RET_ALLOW, eperm),  # threads yes, fork no
        ("open", 1, (_JSET_K, 0, 1, _WRITE_FLAGS), eacces, _RET_ALLOW),
        ("openat", 2, (_JSET_K, 0, 1, _WRITE_FLAGS), eacces, _RET_ALLOW),
        ("kill", 0, (_JEQ_K, 0, 1, pid), _RET_ALLOW, eperm),
        ("tgkill", 0, (_JEQ_K, 0, 1, pid), _RET_ALLOW, eperm),
    ]
    for name, arg, test, if_true, if_false in blocks:
        prog += [
            (_JEQ_K, 0, 4, SYSCALLS[name]),
            (_LD_W_ABS, 0, 0, _arg_lo(arg)),
            test,
            (_RET_K, 0, 0, if_true),
            (_RET_K, 0, 0, if_false),
        ]
        prog.append((_LD_W_ABS, 0, 0, _NR))  # reload nr (never reached after a block's return)
    prog.append((_RET_K, 0, 0, _RET_ALLOW))
    return prog


def install_seccomp() -> tuple[bool, str]:
    """Install the filter for this process; needs ``no_new_privs`` (or CAP_SYS_ADMIN)."""
    if platform.machine() != "x86_64":
        return False, f"syscall table only for x86_64 (this is {platform.machine()})"
    prog = seccomp_program(os.getpid())
    raw = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(raw, len(raw))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.addressof(buf))
    rc = _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0)
    if rc != 0:
        return False, f"prctl(PR_SET_SECCOMP) failed: {os.strerror(ctypes.get_errno())}"
    return True, f"{len(DENIED_SYSCALLS)} syscalls denied, open-for-write denied, fork denied"


def set_no_new_privs() -> tuple[bool, str]:
    """``prctl(PR_SET_NO_NEW_PRIVS, 1)``: no setuid binaries, required for seccomp/Landlock."""
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False, f"prctl failed: {os.strerror(ctypes.get_errno())}"
    return True, "set"


def unshare_network() -> tuple[bool, str]:
    """Move into a new, empty network namespace (root or user-namespace capable kernels)."""
    if _libc.unshare(CLONE_NEWNET) != 0:
        return False, f"unshare(CLONE_NEWNET) refused: {os.strerror(ctypes.get_errno())}"
    return True, "new empty network namespace"


# Landlock (linux/landlock.h)
_LL_CREATE, _LL_ADD, _LL_RESTRICT = 444, 445, 446
_LL_VERSION_FLAG = 1
_FS_READ = (1 << 2) | (1 << 3)  # READ_FILE | READ_DIR


def landlock_abi() -> int:
    """Landlock ABI version of the running kernel (0 when unsupported)."""
    abi = _libc.syscall(_LL_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(_LL_VERSION_FLAG))
    return max(int(abi), 0)


def _read_only_roots() -> list[str]:
    paths = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths.update({sys.base_prefix + "/lib", "/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/share/zoneinfo"})
    # the libraries themselves (they may live outside site-packages); never the project checkout
    for name in ("numpy", "scipy", "skimage", "cv2"):
        module = sys.modules.get(name)
        location = getattr(module, "__file__", None) if module is not None else None
        if location:
            paths.add(os.path.dirname(location))
    return sorted(p for p in paths if os.path.isdir(p))


def install_landlock() -> tuple[bool, str]:
    """Read-only access under the Python installation, no writes, no TCP, no outside signals."""
    abi = landlock_abi()
    if abi < 1:
        return False, "kernel has no Landlock (or it is disabled)"
    fs_rights = (1 << 13) - 1
    if abi >= 2:
        fs_rights |= 1 << 13  # REFER
    if abi >= 3:
        fs_rights |= 1 << 14  # TRUNCATE
    if abi >= 5:
        fs_rights |= 1 << 15  # IOCTL_DEV
    net_rights = 0b11 if abi >= 4 else 0
    scoped = 0b11 if abi >= 6 else 0
    attr = struct.pack("QQQ", fs_rights, net_rights, scoped)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    attr_buf = ctypes.create_string_buffer(attr[:size], size)
    fd = _libc.syscall(_LL_CREATE, attr_buf, ctypes.c_size_t(size), ctypes.c_uint32(0))
    if fd < 0:
        return False, f"landlock_create_ruleset failed: {os.strerror(ctypes.get_errno())}"
    try:
        roots = _read_only_roots()
        for path in roots:
            dir_fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                rule = ctypes.create_string_buffer(struct.pack("=Qi", _FS_READ, dir_fd), 12)
                if _libc.syscall(_LL_ADD, ctypes.c_int(fd), ctypes.c_int(1), rule, ctypes.c_uint32(0)) != 0:
                    return False, f"landlock_add_rule({path}) failed: {os.strerror(ctypes.get_errno())}"
            finally:
                os.close(dir_fd)
        if _libc.syscall(_LL_RESTRICT, ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
            return False, f"landlock_restrict_self failed: {os.strerror(ctypes.get_errno())}"
    finally:
        os.close(fd)
    extra = ", no TCP" if net_rights else ""
    extra += ", no signals/abstract sockets outside" if scoped else ""
    return True, f"ABI {abi}: read-only under {len(roots)} library dirs, no writes{extra}"


def set_rlimits(memory_mb: int, cpu_seconds: float, max_open_files: int) -> tuple[bool, str]:
    """Address space, CPU, file size, open files and core limits for this process."""
    try:
        vm_kb = 0
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    vm_kb = int(line.split()[1])
        address_space = vm_kb * 1024 + memory_mb * 1024 * 1024
        cpu = max(1, int(cpu_seconds + 0.999))
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (max_open_files, max_open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (OSError, ValueError) as exc:
        return False, f"setrlimit failed: {exc}"
    return True, f"AS +{memory_mb} MB, CPU {cpu} s, FSIZE 0, NOFILE {max_open_files}, CORE 0"


def isolate_process(keep_fd: int) -> tuple[bool, str]:
    """New session, empty env, stdio on /dev/null, other fds closed, throwaway cwd."""
    # die with the fork server (which exits when the host does): no orphaned busy loops
    _libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    os.setsid()  # own process group: the host's deadline kills the whole group
    os.environ.clear()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, keep_fd)
    os.closerange(keep_fd + 1, 65536)
    workdir = tempfile.mkdtemp(prefix="scafe-jail-")
    os.chdir(workdir)
    os.rmdir(workdir)  # cwd is now a deleted, empty directory
    sys.dont_write_bytecode = True
    return True, "setsid, parent-death signal, env cleared, stdio -> /dev/null, fds closed, deleted cwd"


def harden(keep_fd: int, *, memory_mb: int, cpu_seconds: float) -> dict[str, tuple[bool, str]]:
    """Apply every OS layer in order; returns ``{layer: (active, detail)}``."""
    layers: dict[str, tuple[bool, str]] = {}
    layers["process_isolation"] = isolate_process(keep_fd)
    layers["empty_env"] = (not os.environ, "environment is empty" if not os.environ else "env not empty")
    layers["network_namespace"] = unshare_network()
    layers["rlimits"] = set_rlimits(memory_mb, cpu_seconds, max_open_files=16)
    layers["no_new_privs"] = set_no_new_privs()
    layers["landlock"] = install_landlock()
    layers["seccomp"] = install_seccomp()
    return layers
