build-dev/store/session.o: store/session.c store/store_int.h \
 store/store.h store/log.h
store/store_int.h:
store/store.h:
store/log.h:
