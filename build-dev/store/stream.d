build-dev/store/stream.o: store/stream.c store/store_int.h store/store.h \
 store/log.h
store/store_int.h:
store/store.h:
store/log.h:
