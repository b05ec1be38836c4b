# Tests of the float kernels and elementary functions; included from
# tests/kernels/CMakeLists.txt.
lpu_add_test(lpu_kernels_float_test
  ${CMAKE_CURRENT_LIST_DIR}/float_math_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/float_sincos_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/float_rmsnorm_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/float_softmax_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/float_activation_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/float_rope_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/float_topk_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/float_spec_oracle_test.cpp)
target_link_libraries(lpu_kernels_float_test PRIVATE lpu_kernels)
