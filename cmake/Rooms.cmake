# apigw_room(<target> <prefix>)
# Gives TARGET the headers of its own folder, and only those, under PREFIX ("store",
# "emulator/core"): a link to the folder is made at BUILD/rooms/TARGET/PREFIX, and that directory
# becomes TARGET's PUBLIC include directory. A target so sees "PREFIX/x.hpp" of its own room and of
# the rooms it links, and nothing else of the repository: including a header of a room it does not
# depend on fails to compile. (Boost lives in the system include directory, where every target can
# see it; tests/layering_test checks that only emulator/net/ includes Beast or Asio.)
function(apigw_room target prefix)
  set(root ${PROJECT_BINARY_DIR}/rooms/${target})
  get_filename_component(parent ${root}/${prefix} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})
  file(CREATE_LINK ${CMAKE_CURRENT_SOURCE_DIR} ${root}/${prefix} SYMBOLIC)
  target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${root}>)
endfunction()
