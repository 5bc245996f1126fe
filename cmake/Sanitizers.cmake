# Sanitizer and fuzzing builds of the whole project, chosen at configure time:
#   -DAPIGW_SANITIZE=address,undefined   AddressSanitizer + UndefinedBehaviorSanitizer (g++ or clang)
#   -DAPIGW_SANITIZE=thread              ThreadSanitizer (g++ or clang)
#   -DAPIGW_FUZZ=ON                      libFuzzer targets in fuzz/ (clang only); the project's
#                                        libraries get coverage instrumentation, ASan and UBSan
# Included from the root CMakeLists.txt before any target exists, so that every target (libraries,
# the emulator, the tests, the fuzz targets) is compiled and linked with the same flags.

set(APIGW_SANITIZE "" CACHE STRING "Sanitizers for every target: address,undefined | thread | empty for none")
option(APIGW_FUZZ "Build the libFuzzer targets in fuzz/ (clang only; implies address,undefined)" OFF)

if(APIGW_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "APIGW_FUZZ=ON needs clang (libFuzzer), found ${CMAKE_CXX_COMPILER_ID}: "
                        "configure with -DCMAKE_CXX_COMPILER=clang++-14, or use fuzz/run")
  endif()
  if(APIGW_SANITIZE AND NOT APIGW_SANITIZE STREQUAL "address,undefined")
    message(FATAL_ERROR "APIGW_FUZZ=ON builds with address,undefined; APIGW_SANITIZE=${APIGW_SANITIZE} "
                        "cannot be combined with it")
  endif()
  set(APIGW_SANITIZE "address,undefined")
endif()

if(APIGW_SANITIZE)
  string(REPLACE "," ";" apigw_sanitizers "${APIGW_SANITIZE}")
  foreach(s IN LISTS apigw_sanitizers)
    if(NOT s MATCHES "^(address|undefined|thread)$")
      message(FATAL_ERROR "APIGW_SANITIZE: unknown sanitizer \"${s}\"; use address,undefined or thread")
    endif()
  endforeach()
  if("thread" IN_LIST apigw_sanitizers AND "address" IN_LIST apigw_sanitizers)
    message(FATAL_ERROR "APIGW_SANITIZE: thread and address cannot be combined; build them separately")
  endif()

  set(apigw_sanitize_flags -fsanitize=${APIGW_SANITIZE} -fno-omit-frame-pointer)
  if("undefined" IN_LIST apigw_sanitizers)
    # Every UBSan finding stops the test (or fuzz input) that hit it, instead of a line in a log.
    list(APPEND apigw_sanitize_flags -fno-sanitize-recover=all)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      # Third-party code that UBSan must not check, each entry with its reason (g++ has no such
      # list, and does not flag what is listed there).
      list(APPEND apigw_sanitize_flags
           -fsanitize-ignorelist=${CMAKE_CURRENT_LIST_DIR}/sanitizer-ignorelist.txt)
    endif()
  endif()
  if(APIGW_FUZZ)
    # clang warns on every member loop over RapidJSON 1.1.0's iterators in C++20: noise that
    # would bury the build's real messages.
    add_compile_options(-Wno-ambiguous-reversed-operator)
    # Coverage feedback for libFuzzer in every library; the fuzz targets add -fsanitize=fuzzer.
    list(APPEND apigw_sanitize_flags -fsanitize=fuzzer-no-link)
  endif()
  add_compile_options(${apigw_sanitize_flags})
  add_link_options(${apigw_sanitize_flags})
  message(STATUS "apigw: sanitizers ${APIGW_SANITIZE}")
endif()
