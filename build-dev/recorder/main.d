build-dev/recorder/main.o: recorder/main.c recorder/attrib.h \
 store/store.h recorder/indexer.h recorder/loader.h bpf/events.h \
 store/log.h recorder/pin.h recorder/sessions.h
recorder/attrib.h:
store/store.h:
recorder/indexer.h:
recorder/loader.h:
bpf/events.h:
store/log.h:
recorder/pin.h:
recorder/sessions.h:
