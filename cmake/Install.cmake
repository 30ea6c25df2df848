# Installs the library with an exported CMake package: find_package(tiercache) then
# target_link_libraries(app PRIVATE tiercache::tiercache). tests/integration/consumer proves it.
include(CMakePackageConfigHelpers)

install(TARGETS tiercache tiercache_boost EXPORT tiercacheTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/tiercache DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT tiercacheTargets NAMESPACE tiercache::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tiercache)
configure_package_config_file(cmake/tiercacheConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/tiercacheConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tiercache)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/tiercacheConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tiercacheConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/tiercacheConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tiercache)
