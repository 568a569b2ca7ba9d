build-dev/store/chunk.o: store/chunk.c store/store_int.h store/store.h \
 store/log.h
store/store_int.h:
store/store.h:
store/log.h:
