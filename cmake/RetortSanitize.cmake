# Sanitizer and fuzzing builds (docs/reliability.md, "Sanitizers and fuzzing").
#
#   RETORT_SANITIZE=address,undefined   AddressSanitizer + UndefinedBehaviorSanitizer
#   RETORT_SANITIZE=thread              ThreadSanitizer
#   RETORT_BUILD_FUZZ=ON                libFuzzer targets in tests/fuzz (clang only); implies
#                                       RETORT_SANITIZE=address,undefined when it is empty
#
# The flags are added for every target of the build (library, tests, fuzz targets), so a
# sanitized library never links against unsanitized callers. Use a build folder of its own for
# each setting (scripts/test.sh: build-asan, build-tsan, build-fuzz).
#
# A sanitized build compiles at -O1 -g1 whatever CMAKE_BUILD_TYPE says: with the sanitizers'
# instrumentation -O2 takes 2.4 times as long to compile (tensor/elementwise.cpp: 43 s of CPU at
# -O2 -g, 18 s at -O1 -g1) for a small gain in test time, and -g1 keeps the file:line in reports.
#
# Libraries from Debian (oneDNN, libgomp, zlib) are not instrumented: the sanitizers miss errors
# inside them but report nothing there, so the oneDNN fast paths stay on and Retort's own code
# around them (blocked layouts, the Winograd kernel) is checked. ThreadSanitizer cannot see
# libgomp's synchronisation; the threaded tests report nothing with the default OpenMP threads,
# and a report inside libgomp would be such a false positive (docs/reliability.md).

set(RETORT_SANITIZE "" CACHE STRING
    "Sanitizers for the whole build, as for -fsanitize= (address,undefined or thread); empty: none")
option(RETORT_BUILD_FUZZ "Build the libFuzzer targets in tests/fuzz (clang; sanitized build)" OFF)

if(RETORT_BUILD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "RETORT_BUILD_FUZZ=ON needs clang (libFuzzer is -fsanitize=fuzzer), but the "
                        "C++ compiler is ${CMAKE_CXX_COMPILER_ID}; configure a separate folder with "
                        "-DCMAKE_CXX_COMPILER=clang++")
  endif()
  if(RETORT_SANITIZE STREQUAL "")
    set(RETORT_SANITIZE "address,undefined" CACHE STRING "" FORCE)
  endif()
  # Coverage instrumentation everywhere; only the fuzz executables link libFuzzer's main.
  # -Wno-pass-failed: clang notes every `omp simd` loop it leaves scalar, which is not a problem.
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=fuzzer-no-link> $<$<COMPILE_LANGUAGE:CXX>:-Wno-pass-failed>)
  add_link_options(-fsanitize=fuzzer-no-link)
endif()

if(NOT RETORT_SANITIZE STREQUAL "")
  if(RETORT_SANITIZE MATCHES "thread" AND RETORT_SANITIZE MATCHES "address")
    message(FATAL_ERROR "RETORT_SANITIZE=${RETORT_SANITIZE}: ThreadSanitizer cannot be combined "
                        "with AddressSanitizer; use separate build folders")
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${RETORT_SANITIZE};-fno-omit-frame-pointer;-O1;-g1>")
  add_link_options(-fsanitize=${RETORT_SANITIZE})
  if(RETORT_SANITIZE MATCHES "undefined")
    # A UBSan report fails the test instead of printing a line and running on.
    add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=undefined>)
  endif()
endif()
