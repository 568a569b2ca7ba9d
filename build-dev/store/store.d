build-dev/store/store.o: store/store.c store/store_int.h store/store.h \
 store/log.h
store/store_int.h:
store/store.h:
store/log.h:
