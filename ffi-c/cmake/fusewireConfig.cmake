# find_package(fusewire) support: put this file in <prefix>/lib/cmake/fusewire/
# (make -C ffi-c install does) or point fusewire_DIR at ffi-c/cmake.
#   find_package(fusewire REQUIRED)
#   target_link_libraries(app PRIVATE fusewire::fusewire)
get_filename_component(_fw_dir "${CMAKE_CURRENT_LIST_DIR}" REALPATH)
if(EXISTS "${_fw_dir}/../../../include/fusewire.h")      # installed layout
  get_filename_component(_fw_prefix "${_fw_dir}/../../.." REALPATH)
  set(_fw_lib "${_fw_prefix}/lib/libfusewire.a")
  set(_fw_inc "${_fw_prefix}/include")
else()                                                   # source tree: ffi-c/cmake
  get_filename_component(_fw_prefix "${_fw_dir}/.." REALPATH)
  set(_fw_lib "${_fw_prefix}/build/lib/libfusewire.a")
  set(_fw_inc "${_fw_prefix}/include")
endif()
if(NOT TARGET fusewire::fusewire)
  add_library(fusewire::fusewire STATIC IMPORTED)
  set_target_properties(fusewire::fusewire PROPERTIES
    IMPORTED_LOCATION "${_fw_lib}"
    INTERFACE_INCLUDE_DIRECTORIES "${_fw_inc}")
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    # The host staticlib links Rust std (for the panic boundary).
    set_property(TARGET fusewire::fusewire PROPERTY
      INTERFACE_LINK_LIBRARIES gcc_s util rt pthread m dl c)
  endif()
endif()
set(fusewire_FOUND TRUE)
