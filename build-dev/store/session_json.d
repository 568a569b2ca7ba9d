build-dev/store/session_json.o: store/session_json.c store/json.h \
 store/store.h store/store_int.h
store/json.h:
store/store.h:
store/store_int.h:
