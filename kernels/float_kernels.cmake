# The float kernels (RMSNorm, RoPE, softmax, SiLU x mul, add, router top-k,
# exp) and the project's elementary functions; included from
# kernels/CMakeLists.txt after lpu_kernels and lpu_kernels_isa_sources exist.
# One body per family over an xsimd batch type; each per-ISA file alone gets
# that ISA's flags.
set(_lpu_float_dir ${CMAKE_CURRENT_LIST_DIR})
target_sources(lpu_kernels PRIVATE
  ${_lpu_float_dir}/math/math.cpp
  ${_lpu_float_dir}/math/sincos.cpp
  ${_lpu_float_dir}/rope/rope_cache.cpp
  ${_lpu_float_dir}/topk/router_topk.cpp
  ${_lpu_float_dir}/float/float_kernels.cpp
  ${_lpu_float_dir}/float/dot_axpy.cpp
  ${_lpu_float_dir}/float/float_kernels_portable.cpp)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64")
  lpu_kernels_isa_sources(AVX2 ${_lpu_float_dir}/float/float_kernels_avx2.cpp)
  lpu_kernels_isa_sources(AVX512 ${_lpu_float_dir}/float/float_kernels_avx512f.cpp)
endif()
# xsimd is header-only and appears in no header outside the per-ISA files.
# Its include directory only: Debian's xsimd target also names an "xtl"
# library, which does not exist (xtl is header-only and unused here).
target_include_directories(lpu_kernels SYSTEM PRIVATE
  $<TARGET_PROPERTY:xsimd,INTERFACE_INCLUDE_DIRECTORIES>)
unset(_lpu_float_dir)
