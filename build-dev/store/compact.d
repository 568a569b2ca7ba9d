build-dev/store/compact.o: store/compact.c store/store_int.h \
 store/store.h store/log.h
store/store_int.h:
store/store.h:
store/log.h:
