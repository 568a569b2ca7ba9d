build-dev/recorder/continuity.o: recorder/continuity.c \
 recorder/sessions_int.h recorder/sessions.h store/store.h \
 recorder/attrib.h bpf/events.h store/log.h
recorder/sessions_int.h:
recorder/sessions.h:
store/store.h:
recorder/attrib.h:
bpf/events.h:
store/log.h:
