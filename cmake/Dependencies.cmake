# Every dependency comes from a Debian 12 package (scripts/install-deps.sh installs them).
find_package(Threads REQUIRED)
find_package(Boost 1.81.0 EXACT CONFIG REQUIRED COMPONENTS url json)
find_package(OpenSSL 3 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)

# Codecs and hashing for cache entries and keys (cache/). pkg-config: Debian ships no CMake files.
find_package(PkgConfig REQUIRED)
pkg_check_modules(zstd REQUIRED IMPORTED_TARGET GLOBAL libzstd)
pkg_check_modules(lz4 REQUIRED IMPORTED_TARGET GLOBAL liblz4)
pkg_check_modules(xxhash REQUIRED IMPORTED_TARGET GLOBAL libxxhash)
find_package(tomlplusplus REQUIRED)
# JSON and MessagePack for the typed helpers (cache/typed.hpp); Debian ships its CMake config.
find_package(nlohmann_json 3.11 REQUIRED)
# The daemon's command line (src/server/command_line.cpp); Debian's libcli11-dev, header-only.
find_package(CLI11 REQUIRED)

# Asio's io_uring-free epoll reactor, no deprecated names, and Boost.System's header-only mode.
add_library(tiercache_boost INTERFACE)
target_link_libraries(tiercache_boost INTERFACE Boost::headers Boost::url Boost::json
                                                 OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
target_compile_definitions(tiercache_boost INTERFACE BOOST_ASIO_NO_DEPRECATED
                                                     BOOST_ASIO_DISABLE_BOOST_COROUTINE)

if(TIERCACHE_BUILD_TESTS OR TIERCACHE_BUILD_BENCH OR TIERCACHE_FUZZ)
  # The RESP2 oracle in tests, benchmarks and fuzzing, never the parser. Through pkg-config:
  # Debian's HiredisConfigVersion.cmake is broken.
  pkg_check_modules(hiredis REQUIRED IMPORTED_TARGET GLOBAL hiredis)
  add_library(tiercache_hiredis INTERFACE)
  target_link_libraries(tiercache_hiredis INTERFACE PkgConfig::hiredis)
endif()
if(TIERCACHE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(TIERCACHE_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
