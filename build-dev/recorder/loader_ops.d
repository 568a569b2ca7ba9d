build-dev/recorder/loader_ops.o: recorder/loader_ops.c \
 recorder/loader_int.h recorder/loader.h bpf/events.h recorder/ring.h \
 recorder/sessions.h store/store.h recorder/attrib.h store/log.h
recorder/loader_int.h:
recorder/loader.h:
bpf/events.h:
recorder/ring.h:
recorder/sessions.h:
store/store.h:
recorder/attrib.h:
store/log.h:
