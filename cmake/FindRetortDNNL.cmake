# Finds oneDNN's CPU library and header without its CMake package (whose Debian build requires
# OpenCL). Defines the imported target Retort::dnnl.
find_path(RETORT_DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp)
find_library(RETORT_DNNL_LIBRARY NAMES dnnl)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(RetortDNNL REQUIRED_VARS RETORT_DNNL_LIBRARY RETORT_DNNL_INCLUDE_DIR)
if(RetortDNNL_FOUND AND NOT TARGET Retort::dnnl)
  add_library(Retort::dnnl UNKNOWN IMPORTED)
  set_target_properties(Retort::dnnl PROPERTIES
    IMPORTED_LOCATION ${RETORT_DNNL_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${RETORT_DNNL_INCLUDE_DIR})
endif()
