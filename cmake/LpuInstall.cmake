# Installs headers, the static libraries and a package config so that
# find_package(lpu) works from another project.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/lpu DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS lpu lpu_core lpu_kernels EXPORT lpuTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT lpuTargets NAMESPACE lpu:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lpu)

configure_package_config_file(cmake/lpuConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/lpuConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lpu)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/lpuConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/lpuConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/lpuConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lpu)
