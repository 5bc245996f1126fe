// APIGW_EXPORT marks what libapigw_ws_emulator.so exports: the public API and nothing else (the
// library is built with hidden visibility).
// Thread-safety: macros only.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define APIGW_EXPORT __attribute__((visibility("default")))
#else
#define APIGW_EXPORT
#endif
