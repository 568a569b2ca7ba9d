build-dev/recorder/sessions.o: recorder/sessions.c recorder/sessions.h \
 store/store.h recorder/attrib.h bpf/events.h store/log.h \
 recorder/sessions_int.h
recorder/sessions.h:
store/store.h:
recorder/attrib.h:
bpf/events.h:
store/log.h:
recorder/sessions_int.h:
