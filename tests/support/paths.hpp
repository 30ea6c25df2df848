// Where the tests find checked-in files and the programs they start.
// Use: std::ifstream(test::source_dir() / "deploy" / "redis.conf");
//
// The paths are absolute; CMake writes them into one generated source file of the build tree
// (tests/paths.cpp), so that no test's compile command carries them and ccache reuses the tests'
// objects from a clone at another path (scripts/test.sh sets CCACHE_BASEDIR). __FILE__ will not
// do: under CCACHE_BASEDIR it is relative to the build directory.
#pragma once

#include <filesystem>

namespace tiercache::test {

// The repository's root.
std::filesystem::path source_dir();

// The daemon, `tiercached`.
std::filesystem::path tiercached_binary();

// The command-line tool, `tiercache`.
std::filesystem::path tiercache_cli_binary();

// examples/demo_upstream; empty when the examples are not built.
std::filesystem::path demo_upstream_binary();

}  // namespace tiercache::test
