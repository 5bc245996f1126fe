# apigw_embed_text(OUTPUT <var> INPUT <file> FUNCTION <qualified name> INCLUDE <header>)
# Generates a source defining `std::string_view FUNCTION()` that returns the text of INPUT, read at
# configure time, so the program needs no file beside it. An edit to INPUT re-runs CMake and so
# regenerates and recompiles the source; configure_file rewrites it only when its content changes.
set(APIGW_EMBED_TEMPLATE ${CMAKE_CURRENT_LIST_DIR}/embedded_text.cpp.in)

function(apigw_embed_text)
  cmake_parse_arguments(EMBED "" "OUTPUT;INPUT;FUNCTION;INCLUDE" "" ${ARGN})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${EMBED_INPUT})
  file(READ ${EMBED_INPUT} EMBED_TEXT)
  string(FIND "${EMBED_TEXT}" ")apigw_embed\"" delimiter_pos)
  if(NOT delimiter_pos EQUAL -1)
    message(FATAL_ERROR "${EMBED_INPUT} contains the raw-string delimiter )apigw_embed\" used by "
                        "${APIGW_EMBED_TEMPLATE}; change the delimiter there.")
  endif()
  file(RELATIVE_PATH EMBED_INPUT_NAME ${PROJECT_SOURCE_DIR} ${EMBED_INPUT})
  string(MAKE_C_IDENTIFIER ${EMBED_INPUT_NAME} stem)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded_${stem}.cpp)
  configure_file(${APIGW_EMBED_TEMPLATE} ${out} @ONLY)
  set(${EMBED_OUTPUT} ${out} PARENT_SCOPE)
endfunction()
