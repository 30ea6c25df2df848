# The MCP client tests' set-up (ctest fixture mcp_sdk): copies tests/mcp's package files and
# scripts into the build tree and installs the pinned SDK there with `npm ci`, so the source tree
# holds no node_modules. Fails, never skips, when npm is missing or the registry cannot be reached.
# Use: cmake -DSOURCE=<tests/mcp> -DBINARY=<build/tests/mcp> -DNPM=<npm> -P npm_ci.cmake
foreach(_var SOURCE BINARY NPM)
  if(NOT DEFINED ${_var})
    message(FATAL_ERROR "npm_ci.cmake: -D${_var}= is required")
  endif()
endforeach()
if(NOT EXISTS "${NPM}")
  message(FATAL_ERROR "npm_ci.cmake: npm not found (${NPM}); scripts/install-deps.sh installs it")
endif()
file(MAKE_DIRECTORY ${BINARY})
file(GLOB _files ${SOURCE}/package.json ${SOURCE}/package-lock.json ${SOURCE}/*.mjs)
file(COPY ${_files} DESTINATION ${BINARY})
# The lock file's integrity hashes pin every package; an unchanged lock file is not installed twice.
set(_stamp ${BINARY}/node_modules/.tiercache-lock)
file(SHA256 ${SOURCE}/package-lock.json _lock_hash)
if(EXISTS ${_stamp})
  file(READ ${_stamp} _installed)
  if(_installed STREQUAL _lock_hash)
    message(STATUS "npm_ci.cmake: node_modules matches package-lock.json")
    return()
  endif()
endif()
execute_process(COMMAND ${NPM} ci --no-audit --no-fund --loglevel=error
                WORKING_DIRECTORY ${BINARY} RESULT_VARIABLE _rc TIMEOUT 540)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "npm_ci.cmake: `npm ci` failed (${_rc}): the MCP SDK could not be installed")
endif()
file(WRITE ${_stamp} ${_lock_hash})
