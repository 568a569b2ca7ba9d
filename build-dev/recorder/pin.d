build-dev/recorder/pin.o: recorder/pin.c bpf/events.h store/log.h \
 recorder/pin.h
bpf/events.h:
store/log.h:
recorder/pin.h:
