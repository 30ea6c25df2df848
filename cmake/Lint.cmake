# `cmake --build <dir> --target lint` runs clang-tidy (.clang-tidy) over the library sources.
find_program(CLANG_TIDY_PROGRAM NAMES clang-tidy-14 clang-tidy)
find_program(RUN_CLANG_TIDY_PROGRAM NAMES run-clang-tidy-14 run-clang-tidy)
if(CLANG_TIDY_PROGRAM AND RUN_CLANG_TIDY_PROGRAM)
  add_custom_target(lint
    COMMAND ${RUN_CLANG_TIDY_PROGRAM} -quiet -clang-tidy-binary ${CLANG_TIDY_PROGRAM}
            -p ${CMAKE_BINARY_DIR} "${CMAKE_SOURCE_DIR}/src/"
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    COMMENT "clang-tidy over src/")
endif()
