build-dev/store/meta.o: store/meta.c store/store_int.h store/store.h \
 store/log.h
store/store_int.h:
store/store.h:
store/log.h:
