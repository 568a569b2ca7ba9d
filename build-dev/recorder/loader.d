build-dev/recorder/loader.o: recorder/loader.c recorder/loader.h \
 bpf/events.h store/log.h recorder/pin.h recorder/ring.h \
 recorder/loader_int.h build-dev/kubetape.skel.h
recorder/loader.h:
bpf/events.h:
store/log.h:
recorder/pin.h:
recorder/ring.h:
recorder/loader_int.h:
build-dev/kubetape.skel.h:
