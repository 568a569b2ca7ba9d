build-dev/kubetape.bpf.o: bpf/kubetape.bpf.c build-dev/vmlinux.h \
  bpf/events.h bpf/maps.bpf.h bpf/session.bpf.h bpf/core_fixes.bpf.h \
  bpf/capture_syscall.bpf.h bpf/capture_tty.bpf.h

build-dev/vmlinux.h:

bpf/events.h:

bpf/maps.bpf.h:

bpf/session.bpf.h:

bpf/core_fixes.bpf.h:

bpf/capture_syscall.bpf.h:

bpf/capture_tty.bpf.h:
