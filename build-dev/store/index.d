build-dev/store/index.o: store/index.c store/store_int.h store/store.h \
 store/screen.h store/log.h
store/store_int.h:
store/store.h:
store/screen.h:
store/log.h:
