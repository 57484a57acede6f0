#!/usr/bin/env python3
"""Runs a command with memory-deny-write-execute in force (Linux >= 6.3, prctl PR_SET_MDWE), the kernel's own
form of systemd's MemoryDenyWriteExecute=: any later mapping that is both writable and executable is refused,
in this process and across exec. Exits 3 if the kernel cannot do it."""
import ctypes
import os
import sys

PR_SET_MDWE, PR_GET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 66, 1
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0 or libc.prctl(PR_GET_MDWE, 0, 0, 0, 0) != PR_MDWE_REFUSE_EXEC_GAIN:
    sys.stderr.write(f"PR_SET_MDWE unavailable: errno {ctypes.get_errno()}\n")
    sys.exit(3)
os.execv(sys.argv[1], sys.argv[1:])
