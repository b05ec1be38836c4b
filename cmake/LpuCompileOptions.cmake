# Compile options shared by every lpu target, applied through interface
# targets (never CMAKE_CXX_FLAGS).

# lpu_flags: language level and the floating-point contract. -ffp-contract=off
# everywhere: no compiler-fused multiply-add, so every ISA-specific file
# computes the same float as every other (an FMA is written explicitly where
# wanted).
add_library(lpu_flags INTERFACE)
target_compile_features(lpu_flags INTERFACE cxx_std_20)
target_compile_options(lpu_flags INTERFACE -ffp-contract=off -fno-fast-math)

# lpu_warnings: warnings for our own sources only.
add_library(lpu_warnings INTERFACE)
target_compile_options(lpu_warnings INTERFACE -Wall -Wextra -Wpedantic $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>
  -Wnon-virtual-dtor -Wimplicit-fallthrough)

set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)

# Adds an internal static library with the repo root as include root
# (internal includes read "lib/gguf/file.h"; public headers include each other
# as "lpu/status.h", which is how an installed tree sees them).
function(lpu_internal_library name)
  add_library(${name} STATIC ${ARGN})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${name} PUBLIC $<BUILD_INTERFACE:lpu_flags> PRIVATE $<BUILD_INTERFACE:lpu_warnings>)
endfunction()
