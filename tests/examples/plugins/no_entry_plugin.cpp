// A shared library that is no apigw plugin: it exports a function, but no entry point.
extern "C" int apigw_test_not_a_plugin() { return 42; }
