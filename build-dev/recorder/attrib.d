build-dev/recorder/attrib.o: recorder/attrib.c recorder/attrib.h \
 store/store.h store/log.h
recorder/attrib.h:
store/store.h:
store/log.h:
