# find_package(fusewire) support: make -C ffi-c install puts this file and
# fusewireConfigVersion.cmake in <prefix>/lib/cmake/fusewire/.
#   find_package(fusewire 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE fusewire::fusewire)      # static
#   target_link_libraries(app PRIVATE fusewire::shared)        # shared
get_filename_component(_fw_dir "${CMAKE_CURRENT_LIST_DIR}" REALPATH)
if(EXISTS "${_fw_dir}/../../../include/fusewire.h")      # installed layout
  get_filename_component(_fw_prefix "${_fw_dir}/../../.." REALPATH)
  set(_fw_libdir "${_fw_prefix}/lib")
  set(_fw_inc "${_fw_prefix}/include")
else()                                                   # source tree: ffi-c/cmake
  get_filename_component(_fw_prefix "${_fw_dir}/.." REALPATH)
  set(_fw_libdir "${_fw_prefix}/build/lib")
  set(_fw_inc "${_fw_prefix}/include")
endif()
if(NOT TARGET fusewire::fusewire)
  # No system libraries to add: the library is no_std (see ffi-c/README.md).
  add_library(fusewire::fusewire STATIC IMPORTED)
  set_target_properties(fusewire::fusewire PROPERTIES
    IMPORTED_LOCATION "${_fw_libdir}/libfusewire.a"
    INTERFACE_INCLUDE_DIRECTORIES "${_fw_inc}")
endif()
if(NOT TARGET fusewire::shared AND EXISTS "${_fw_libdir}/libfusewire.so")
  add_library(fusewire::shared SHARED IMPORTED)
  set_target_properties(fusewire::shared PROPERTIES
    IMPORTED_LOCATION "${_fw_libdir}/libfusewire.so"
    IMPORTED_NO_SONAME TRUE
    INTERFACE_INCLUDE_DIRECTORIES "${_fw_inc}")
endif()
set(fusewire_FOUND TRUE)
