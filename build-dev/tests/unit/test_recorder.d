build-dev/tests/unit/test_recorder.o: tests/unit/test_recorder.c \
 tests/unit/kt_test.h tests/unit/kt_fixture.h store/store.h store/log.h \
 recorder/sessions.h recorder/attrib.h bpf/events.h store/store_int.h \
 store/store.h
tests/unit/kt_test.h:
tests/unit/kt_fixture.h:
store/store.h:
store/log.h:
recorder/sessions.h:
recorder/attrib.h:
bpf/events.h:
store/store_int.h:
store/store.h:
