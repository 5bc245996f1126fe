# The public API (include/apigw/): libapigw_ws_emulator.so (apigw::emulator), the GoogleTest
# helpers (apigw::testing), and the rules that install them with the executable as a CMake package:
#   find_package(apigw_ws_emulator CONFIG REQUIRED)
#   target_link_libraries(my_tests PRIVATE apigw::testing)   # or apigw::emulator
# The shared library links the internal static libraries privately and exports only what
# APIGW_EXPORT marks, so the package depends on RapidJSON (and Threads) alone.

# apigw::client (include/apigw/client.hpp), compiled once: its objects go into the shared library
# and into the tests' support library (tests/support), which use the same client.
add_library(apigw_client OBJECT ${PROJECT_SOURCE_DIR}/emulator/embedded_client.cpp)
set_target_properties(apigw_client PROPERTIES
  POSITION_INDEPENDENT_CODE ON
  CXX_VISIBILITY_PRESET hidden
  VISIBILITY_INLINES_HIDDEN ON)
target_include_directories(apigw_client PUBLIC ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(apigw_client PRIVATE apigw_beast apigw_warnings)
target_compile_features(apigw_client PUBLIC cxx_std_20)

option(APIGW_BUILD_LIBRARY "Build libapigw_ws_emulator.so, apigw::testing and the install rules" ON)
if(NOT APIGW_BUILD_LIBRARY)
  return()
endif()

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Everything that ends up in the shared library is position-independent and hidden by default.
set_target_properties(apigw_config apigw_store apigw_routes apigw_emulator apigw_beast PROPERTIES
  POSITION_INDEPENDENT_CODE ON
  CXX_VISIBILITY_PRESET hidden
  VISIBILITY_INLINES_HIDDEN ON)

add_library(apigw_ws_emulator SHARED
  ${PROJECT_SOURCE_DIR}/emulator/embedded.cpp
  $<TARGET_OBJECTS:apigw_client>
)
add_library(apigw::emulator ALIAS apigw_ws_emulator)
set_target_properties(apigw_ws_emulator PROPERTIES
  EXPORT_NAME emulator
  CXX_VISIBILITY_PRESET hidden
  VISIBILITY_INLINES_HIDDEN ON
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR})
target_include_directories(apigw_ws_emulator PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(apigw_ws_emulator
  PUBLIC $<BUILD_INTERFACE:apigw_rapidjson> $<INSTALL_INTERFACE:apigw::rapidjson>
  PRIVATE apigw_emulator apigw_beast apigw_warnings)
target_compile_features(apigw_ws_emulator PUBLIC cxx_std_20)
target_link_options(apigw_ws_emulator PRIVATE
  -Wl,--version-script=${PROJECT_SOURCE_DIR}/cmake/apigw_ws_emulator.map)
set_property(TARGET apigw_ws_emulator APPEND PROPERTY LINK_DEPENDS ${PROJECT_SOURCE_DIR}/cmake/apigw_ws_emulator.map)

# apigw::plugin: the headers alone, for plugin libraries (which must not link the library).
add_library(apigw_ws_emulator_plugin INTERFACE)
add_library(apigw::plugin ALIAS apigw_ws_emulator_plugin)
set_target_properties(apigw_ws_emulator_plugin PROPERTIES EXPORT_NAME plugin)
target_include_directories(apigw_ws_emulator_plugin INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_link_libraries(apigw_ws_emulator_plugin INTERFACE
  $<BUILD_INTERFACE:apigw_rapidjson> $<INSTALL_INTERFACE:apigw::rapidjson>)
target_compile_features(apigw_ws_emulator_plugin INTERFACE cxx_std_20)

install(TARGETS apigw_ws_emulator apigw_ws_emulator_plugin EXPORT apigw_ws_emulator_targets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS apigw-ws-emulator RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/apigw DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(APIGW_PACKAGE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/apigw_ws_emulator)
install(EXPORT apigw_ws_emulator_targets NAMESPACE apigw::
  FILE apigw_ws_emulator_targets.cmake DESTINATION ${APIGW_PACKAGE_DIR})

# apigw::testing: needs GoogleTest; built and installed when it is found.
find_package(GTest QUIET)
if(GTest_FOUND)
  add_library(apigw_ws_emulator_testing STATIC ${PROJECT_SOURCE_DIR}/emulator/embedded_testing.cpp)
  add_library(apigw::testing ALIAS apigw_ws_emulator_testing)
  set_target_properties(apigw_ws_emulator_testing PROPERTIES EXPORT_NAME testing POSITION_INDEPENDENT_CODE ON)
  target_link_libraries(apigw_ws_emulator_testing
    PUBLIC apigw_ws_emulator GTest::gtest
    PRIVATE $<BUILD_INTERFACE:apigw_warnings>)
  install(TARGETS apigw_ws_emulator_testing EXPORT apigw_ws_emulator_testing_targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT apigw_ws_emulator_testing_targets NAMESPACE apigw::
    FILE apigw_ws_emulator_testing_targets.cmake DESTINATION ${APIGW_PACKAGE_DIR})
endif()

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/apigw_ws_emulatorConfig.cmake.in
  ${PROJECT_BINARY_DIR}/apigw_ws_emulatorConfig.cmake
  INSTALL_DESTINATION ${APIGW_PACKAGE_DIR}
  PATH_VARS CMAKE_INSTALL_BINDIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/apigw_ws_emulatorConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/apigw_ws_emulatorConfig.cmake
  ${PROJECT_BINARY_DIR}/apigw_ws_emulatorConfigVersion.cmake
  DESTINATION ${APIGW_PACKAGE_DIR})
